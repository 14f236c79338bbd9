/** .kap texts shared by the CLI tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const specDir = fileURLToPath(new URL('../../language/test/fixtures/spec/', import.meta.url));

/** The conformance fixtures of LANGUAGE.md: clean protocols. */
export const SPEC: Record<string, string> = Object.fromEntries(
  readdirSync(specDir)
    .filter((f) => f.endsWith('.kap'))
    .sort()
    .map((f) => [`spec/${f}`, readFileSync(specDir + f, 'utf8')]),
);

/**
 * Three independent syntax errors on lines 5 (twice) and 6: a unit used as a
 * name (KAP1009), a stray `@` (KAP1001), an unexpected word (KAP1003).
 */
export const BAD = `protocol "x" {
  measures {
    sbp mmHg 50..260
  }
  session s { stage a duration 10 min { measure sbp every @ } }
  oops
}
`;

/** A minimal protocol with nothing to report. */
export const CLEAN = `protocol "p" {
  session dosing {
    stage rest duration 10 min {}
  }
}
`;
