// The real PostgreSQL server the tests use lives with the local tools, which start one too.
export * from "../../tools/local/postgres";
