// Integration tests start the real `tfx` binary, which runs the compiled packages: make sure they
// are built (incremental, so this is quick when nothing changed).
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-b', 'packages/cli'], { stdio: 'inherit' });
}
