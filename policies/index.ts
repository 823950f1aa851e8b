/**
 * The env-progression policy pack: parity with the environment below, secret scoping, isolation
 * and workload safety. Run it with `pulumi preview|up --policy-pack policies`; staging and prod
 * also need `--policy-pack-config` with the parity baseline of the stack below (docs/policies.md).
 */
import { PolicyPack } from "@pulumi/policy";
import { allPolicies, PACK_NAME } from "./lib/catalog";

new PolicyPack(PACK_NAME, {
  description:
    "Parity with the environment below, secret scoping, isolation and workload safety for env-progression.",
  enforcementLevel: "mandatory",
  policies: allPolicies(),
});
