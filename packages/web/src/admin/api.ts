/**
 * The admin console's client of the SIP REST API (`/api/v1/sip/…`), typed by the contract in
 * `@tfx/protocol` (rest/sip.ts). Type imports only: the server validates, the console trusts
 * its answers' shapes. The admin token goes in `Authorization: Bearer`.
 */
import type {
  SipBan,
  SipCall,
  SipRegistration,
  SipSettings,
  SipStatus,
  SipTracedMessage,
  SipUser,
} from '@tfx/protocol';
import type { Rest } from './rest.js';

export { ApiError } from './rest.js';

export type SipListener = SipStatus['listeners'][number];

/** PUT /settings answer (sipSettingsResultSchema). */
export interface SettingsResult {
  readonly settings: SipSettings;
  readonly listeners: readonly SipListener[];
  readonly overridesFile: string;
}

interface Items<T> {
  readonly items: T[];
}

const BASE = '/api/v1/sip';
const seg = encodeURIComponent;

/** The SIP pages' client (`/api/v1/sip/…`), over the console's REST client. */
export class AdminApi {
  constructor(readonly rest: Rest) {}

  status(): Promise<SipStatus> {
    return this.#req('GET', '/status');
  }
  async registrations(): Promise<SipRegistration[]> {
    return (await this.#req<Items<SipRegistration>>('GET', '/registrations')).items;
  }
  removeRegistration(username: string): Promise<void> {
    return this.#req('DELETE', `/registrations/${seg(username)}`);
  }
  removeContact(username: string, id: string): Promise<void> {
    return this.#req('DELETE', `/registrations/${seg(username)}/contacts/${seg(id)}`);
  }
  async users(): Promise<SipUser[]> {
    return (await this.#req<Items<SipUser>>('GET', '/users')).items;
  }
  addUser(username: string, password: string): Promise<SipUser> {
    return this.#req('POST', '/users', { username, password });
  }
  setPassword(username: string, password: string): Promise<void> {
    return this.#req('PUT', `/users/${seg(username)}/password`, { password });
  }
  deleteUser(username: string): Promise<void> {
    return this.#req('DELETE', `/users/${seg(username)}`);
  }
  async calls(): Promise<SipCall[]> {
    return (await this.#req<Items<SipCall>>('GET', '/calls')).items;
  }
  async messages(after: number, limit = 1000): Promise<SipTracedMessage[]> {
    const q = new URLSearchParams({ after: String(after), limit: String(limit) });
    return (await this.#req<Items<SipTracedMessage>>('GET', `/messages?${q.toString()}`)).items;
  }
  async bans(): Promise<SipBan[]> {
    return (await this.#req<Items<SipBan>>('GET', '/bans')).items;
  }
  liftBan(kind: SipBan['kind'], value: string): Promise<void> {
    return this.#req('DELETE', `/bans/${kind}/${seg(value)}`);
  }
  settings(): Promise<SipSettings> {
    return this.#req('GET', '/settings');
  }
  changeSettings(update: Partial<SipSettings>): Promise<SettingsResult> {
    return this.#req('PUT', '/settings', update);
  }

  #req<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.rest.request<T>(method, `${BASE}${path}`, body);
  }
}
