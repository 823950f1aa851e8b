// The project copy the e2e suite deploys lives with the local tools, which deploy one too.
export * from "../../tools/local/workspace";
