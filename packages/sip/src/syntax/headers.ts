export function canonicalHeaderName(name: string): string {
  return name.toLowerCase();
}
export function compactFormOf(_name: string): string | undefined {
  return undefined;
}
export class SipHeaders {}
