/** The dial pad's keys (ITU-T E.161 letters), pure data for the UI and its tests. */
export const KEYS: ReadonlyArray<readonly [key: string, letters: string]> = [
  ['1', ''],
  ['2', 'ABC'],
  ['3', 'DEF'],
  ['4', 'GHI'],
  ['5', 'JKL'],
  ['6', 'MNO'],
  ['7', 'PQRS'],
  ['8', 'TUV'],
  ['9', 'WXYZ'],
  ['*', ''],
  ['0', '+'],
  ['#', ''],
];

/** `carol@tfx.test` or `sip:carol@tfx.test` → its user and domain; `null` when it is not one. */
export function parseAccount(text: string): { user: string; domain: string } | null {
  const m =
    /^(?:sips?:)?([A-Za-z0-9\-_.!~*'()+%]{1,64})@([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/i.exec(
      text.trim(),
    );
  return m ? { user: m[1] as string, domain: m[2] as string } : null;
}

/** The words the dial pad shows for a call state. */
export const STATE_TEXT: Readonly<Record<string, string>> = {
  dialling: 'Calling…',
  ringing: 'Ringing…',
  incoming: 'Incoming call',
  connecting: 'Connecting…',
  connected: 'Connected',
  ended: 'Call ended',
  failed: 'Call failed',
};

/** Anonymous room participants do not dial out unless the operator allows it (docs/sdk.md). */
export const ANONYMOUS_REFUSAL =
  'Anonymous room participants cannot dial out. Sign in with a SIP account to call a phone.';
export const SIGN_IN_FIRST = 'Sign in with a SIP account to call a phone.';
