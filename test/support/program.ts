// The tests evaluate the program with the same harness `verify` uses.
export * from "../../tools/evaluate";
