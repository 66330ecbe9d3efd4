# The project's entry points. README.md names the two that matter: `make demo` and `make test`.
.PHONY: demo test valgrind bench

demo:
	scripts/demo.sh

test:
	scripts/test.sh

valgrind:
	tests/c/valgrind.sh

bench:
	scripts/bench.sh
