/**
 * Regular expressions from the configuration (normalization rules, route patterns) are compiled
 * here and only here, so that none can stall the SBC: a rule runs on every INVITE, on users and
 * header values a caller chose, and a backtracking pattern such as `^(a+)+$` would take
 * exponential time on a crafted input (ReDoS).
 *
 * Patterns run on V8's linear-time regular-expression engine (the `l` flag, enabled once with
 * `--enable-experimental-regexp-engine`): matching is O(pattern × input) whatever the pattern.
 * That engine refuses what needs backtracking (backreferences `\1`, lookahead and lookbehind);
 * such a pattern is refused when the configuration is loaded, with that reason. Where the engine
 * is not available (another JavaScript runtime), patterns with a quantified group that itself
 * contains a quantifier (star height above 1) are refused instead. Patterns are capped at
 * `MAX_PATTERN` characters. Pure but for enabling the V8 flag once.
 */
import { setFlagsFromString } from 'node:v8';

/** Longest pattern accepted (characters). */
export const MAX_PATTERN = 256;

let linear: boolean | undefined;

/** The flag of V8's linear engine (a variable: linters know no such flag). */
const LINEAR = 'l';

/** Whether V8's linear engine is on (it is turned on at the first call). */
function linearEngine(): boolean {
  if (linear !== undefined) return linear;
  try {
    new RegExp('a', LINEAR);
    linear = true;
  } catch {
    try {
      setFlagsFromString('--enable-experimental-regexp-engine');
      new RegExp('a', LINEAR);
      linear = true;
    } catch {
      linear = false;
    }
  }
  return linear;
}

/**
 * A quantified group containing a quantifier, the shape of catastrophic backtracking (`(a+)+`,
 * `(a|aa)*` is caught by the linear engine only). Used where the linear engine is missing.
 */
export function nestedQuantifier(source: string): boolean {
  const stack: boolean[] = []; // per open group: does it contain a quantifier?
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // Skip a character class (quantifier characters in it are literals).
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (c === '(') stack.push(false);
    else if (c === ')') {
      const inner = stack.pop() ?? false;
      const next = source[i + 1];
      const quantified = next === '*' || next === '+' || next === '?' || next === '{';
      if (inner && quantified && next !== '?') return true;
      if (stack.length > 0 && (inner || quantified)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{') && stack.length > 0) {
      stack[stack.length - 1] = true;
    }
  }
  return false;
}

/** Why a pattern is refused, or undefined when it compiles safely. */
export function patternProblem(source: string): string | undefined {
  if (source.length > MAX_PATTERN) return `longer than ${MAX_PATTERN} characters`;
  try {
    new RegExp(source);
  } catch (err) {
    // "Invalid regular expression: /(/: Unterminated group" → "invalid regular expression /(/: …"
    const m = /^Invalid regular expression: (.*)$/.exec((err as Error).message);
    return m ? `invalid regular expression ${m[1] ?? ''}` : (err as Error).message;
  }
  if (linearEngine()) {
    try {
      new RegExp(source, LINEAR);
    } catch {
      return `invalid regular expression /${source}/: backreferences and lookaround need backtracking, which rules may not use (they run in linear time)`;
    }
    return undefined;
  }
  if (nestedQuantifier(source))
    return `invalid regular expression /${source}/: a quantified group containing a quantifier can backtrack catastrophically`;
  return undefined;
}

/** Compiles a configured pattern for linear-time matching; throws a TypeError naming `where`. */
export function compilePattern(source: string, where: string, flags = ''): RegExp {
  const problem = patternProblem(source);
  if (problem !== undefined) throw new TypeError(`${where}: ${problem}`);
  return new RegExp(source, linearEngine() ? `${flags}${LINEAR}` : flags);
}
