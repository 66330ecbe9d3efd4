# The project's entry points. README.md names the two that matter: `make demo` and `make test`.
.PHONY: demo test valgrind bench wheel

demo:
	scripts/demo.sh

test:
	scripts/test.sh

valgrind:
	tests/c/valgrind.sh

bench:
	scripts/bench.sh

# The wheel to ship: profile-guided (scripts/wheel.sh --pgo), into target/wheels and .venv.
wheel:
	OAUTH2_PGO=1 scripts/python-env.sh
