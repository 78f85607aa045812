/**
 * SIP users: digest HA1 values per user (MD5 and SHA-256), never passwords. Users come from
 * `sip.users` (hashed at start) and from the admin API; API changes persist in
 * `<dataDir>/sip-users.json` (mode 0600) as a layer over the configuration: an API entry replaces
 * a configured user of the same name, and a deletion hides one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeHa1, nodeDigestHash, type DigestAlgorithm } from '@tfx/sip';

interface Ha1Pair {
  readonly md5: string;
  readonly sha256: string;
}

interface UserEntry extends Ha1Pair {
  readonly source: 'config' | 'api';
}

interface PersistedFile {
  readonly realm: string;
  readonly users: Record<string, Ha1Pair>;
  readonly deleted: string[];
}

export function ha1Pair(username: string, realm: string, password: string): Ha1Pair {
  return {
    md5: computeHa1(nodeDigestHash, 'MD5', username, realm, password),
    sha256: computeHa1(nodeDigestHash, 'SHA-256', username, realm, password),
  };
}

export class SipUsers {
  readonly #users = new Map<string, UserEntry>();
  readonly #config = new Map<string, Ha1Pair>();
  readonly #api = new Map<string, Ha1Pair>();
  readonly #deleted = new Set<string>();
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    readonly realm: string,
    configUsers: ReadonlyArray<{ readonly username: string; readonly password: string }>,
    dataDir: string,
  ) {
    for (const u of configUsers)
      this.#config.set(u.username, ha1Pair(u.username, realm, u.password));
    this.#file = join(dataDir, 'sip-users.json');
    this.#rebuild();
  }

  /** Loads the API layer; a file for another realm is ignored (its HA1 values cannot verify). */
  async load(): Promise<{ ignored?: string }> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch {
      return {};
    }
    const parsed = JSON.parse(text) as PersistedFile;
    if (parsed.realm !== this.realm) {
      return { ignored: `${this.#file} was written for realm ${parsed.realm}` };
    }
    for (const [name, pair] of Object.entries(parsed.users)) this.#api.set(name, pair);
    for (const name of parsed.deleted) this.#deleted.add(name);
    this.#rebuild();
    return {};
  }

  get size(): number {
    return this.#users.size;
  }

  has(username: string): boolean {
    return this.#users.has(username);
  }

  list(): Array<{ username: string; source: 'config' | 'api' }> {
    return [...this.#users]
      .map(([username, e]) => ({ username, source: e.source }))
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  /** The HA1 for digest verification; undefined for an unknown user. */
  ha1(username: string, algorithm: DigestAlgorithm): string | undefined {
    const e = this.#users.get(username);
    if (!e) return undefined;
    return algorithm === 'MD5' ? e.md5 : e.sha256;
  }

  /** Adds a user or sets a password (API layer, persisted). */
  async set(username: string, password: string): Promise<void> {
    this.#api.set(username, ha1Pair(username, this.realm, password));
    this.#deleted.delete(username);
    this.#rebuild();
    await this.#persist();
  }

  /** Deletes a user; false when unknown. */
  async delete(username: string): Promise<boolean> {
    if (!this.#users.has(username)) return false;
    this.#api.delete(username);
    if (this.#config.has(username)) this.#deleted.add(username);
    this.#rebuild();
    await this.#persist();
    return true;
  }

  #rebuild(): void {
    this.#users.clear();
    for (const [name, pair] of this.#config) {
      if (!this.#deleted.has(name)) this.#users.set(name, { ...pair, source: 'config' });
    }
    for (const [name, pair] of this.#api) this.#users.set(name, { ...pair, source: 'api' });
  }

  #persist(): Promise<void> {
    const body: PersistedFile = {
      realm: this.realm,
      users: Object.fromEntries(this.#api),
      deleted: [...this.#deleted],
    };
    const tmp = `${this.#file}.tmp`;
    this.#writing = this.#writing.then(async () => {
      await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.#file);
    });
    return this.#writing;
  }
}
