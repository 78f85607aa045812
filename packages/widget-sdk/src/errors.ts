import type { WidgetErrorCode } from '@tfx/protocol/widgets';

export type TfxWidgetErrorCode = WidgetErrorCode | 'not-in-frame' | 'handshake-timeout';

/** An error the widget SDK reports, with a stable code (docs/widgets.md lists them). */
export class TfxWidgetError extends Error {
  readonly code: TfxWidgetErrorCode;

  constructor(code: TfxWidgetErrorCode, message?: string) {
    super(message ?? code);
    this.name = 'TfxWidgetError';
    this.code = code;
  }
}
