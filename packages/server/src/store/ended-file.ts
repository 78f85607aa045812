/**
 * Ended sessions on disk: `<dataDir>/sessions/ended.jsonl`, one JSON object per line, appended
 * as sessions end and read back at start. Lines that do not parse (a torn last line after a
 * crash) are skipped. When the file holds many more lines than are kept, it is rewritten from
 * what is kept (write to a temporary file, then rename).
 */
import {
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  createWriteStream,
  type WriteStream,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { SessionRecord } from './types.js';

const participantSchema = z.object({
  id: z.string(),
  name: z.string(),
  joinedAt: z.number(),
  leftAt: z.number().optional(),
});
const endedSessionSchema = z.object({
  id: z.string(),
  room: z.string(),
  startedAt: z.number(),
  endedAt: z.number(),
  peakParticipants: z.number().int().min(0),
  participants: z.array(participantSchema),
});

export class EndedSessionFile {
  private stream: WriteStream | undefined;
  private lines = 0;
  private closed = false;

  constructor(readonly path: string) {}

  /** Reads every valid line (oldest first). A missing file is an empty list. */
  load(): SessionRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: SessionRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = endedSessionSchema.safeParse(JSON.parse(line));
        if (parsed.success) out.push(parsed.data);
      } catch {
        // a torn line: skip it
      }
    }
    this.lines = out.length;
    return out;
  }

  append(session: SessionRecord): void {
    if (this.closed) return;
    this.stream ??= this.open();
    this.stream.write(`${JSON.stringify(session)}\n`);
    this.lines++;
  }

  /** Lines written since the last rewrite (or load). */
  get lineCount(): number {
    return this.lines;
  }

  /** Replaces the file with exactly these sessions. */
  async rewrite(sessions: readonly SessionRecord[]): Promise<void> {
    if (this.closed) return;
    await this.endStream();
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, sessions.map((s) => `${JSON.stringify(s)}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, this.path);
    this.lines = sessions.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.endStream();
  }

  private open(): WriteStream {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    return createWriteStream(this.path, { flags: 'a', mode: 0o600 });
  }

  private endStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.end(() => resolve()));
  }
}
