/**
 * The promotion's terminal ports: one line per event on stdout, and the prod approval prompt.
 */
import * as readline from "node:readline/promises";
import type { Approver, PromoteEvent, Reporter } from "./ports";
import { describeRelease } from "./release";

const RUNNING: Partial<Record<string, string>> = {
  preview: "previewing with the policy pack",
  up: "deploying (pulumi up; the smoke tests run inside it)",
  approval: "waiting for approval",
};

/** One line for an event, or undefined for events that print nothing. */
export function formatEvent(e: PromoteEvent): string | undefined {
  switch (e.kind) {
    case "start":
      return e.preview
        ? `promote --preview: ${e.envs.join(" → ")} (previews only; nothing is changed)`
        : `promote: ${e.envs.join(" → ")}`;
    case "running": {
      const what = RUNNING[e.step];
      return what ? `[${e.env}] ${what}…` : undefined;
    }
    case "step":
      return `[${e.env}] ${e.step}: ${e.detail}`;
    case "warning":
      return `[${e.env}] warning: ${e.message}`;
    case "failed":
      return `[${e.env}] FAILED at ${e.step}: ${e.reason}`;
    case "rollback":
      switch (e.outcome) {
        case "started":
          return `[${e.env}] rolling back to the last verified release${e.release ? `, ${describeRelease(e.release)}` : ""}…`;
        case "done":
          return `[${e.env}] rolled back${e.release ? ` to ${describeRelease(e.release)}` : ""}; its smoke tests passed`;
        case "failed":
          return `[${e.env}] ROLLBACK FAILED: ${e.reason ?? "unknown reason"}`;
        case "unavailable":
          return `[${e.env}] no rollback: ${e.reason ?? "no verified release"}`;
      }
      return undefined;
    case "progress":
      return `[${e.env}]   ${e.message}`;
    case "done":
      return e.summary;
  }
}

export class TerminalReporter implements Reporter {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}
  event(e: PromoteEvent): void {
    const line = formatEvent(e);
    if (line !== undefined) this.write(line);
  }
}

/**
 * Asks on the terminal. Without one on stdin (CI, a pipe), `interactive` is false and nobody is
 * asked. The question goes to stderr when stdout is not a terminal (`npm run promote | tee log`),
 * so that the person who must answer sees it.
 */
export class TerminalApprover implements Approver {
  readonly interactive: boolean;
  constructor(
    private readonly input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout.isTTY
      ? process.stdout
      : process.stderr,
  ) {
    this.interactive = input.isTTY === true;
  }

  async confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: this.input, output: this.output });
    try {
      const answer = await rl.question(`${question} Type "yes" to deploy: `);
      return isYes(answer);
    } finally {
      rl.close();
    }
  }
}

/** Only an explicit yes approves a production deploy; Enter, "n", anything else declines. */
export function isYes(answer: string): boolean {
  return /^\s*(y|yes)\s*$/i.test(answer);
}
