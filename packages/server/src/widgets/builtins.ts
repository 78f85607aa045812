/**
 * The built-in widgets, seeded into a new `widgetmanifest.json`. Their pages are built by the
 * `@tfx/widgets` package and served at `/widgets/<id>/`.
 */
import type { WidgetManifest } from '@tfx/protocol';

export const BUILTIN_WIDGETS: WidgetManifest = [
  {
    plugintype: 'chat',
    id: 'messaging',
    type: 'chat',
    title: 'Messages',
    icon: '/widgets/messaging/icon.svg',
    url: '/widgets/messaging/',
    version: '1.0.0',
    description: 'Simple messaging: history for late joiners, sender names, Enter to send.',
  },
];
