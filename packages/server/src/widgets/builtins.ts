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
  {
    plugintype: 'code',
    id: 'editor',
    type: 'code',
    title: 'Code editor',
    icon: '/widgets/editor/icon.svg',
    url: '/widgets/editor/',
    version: '1.0.0',
    description:
      'Collaborative code editor: CodeMirror with Yjs, shared cursors with names, syntax highlighting.',
  },
  {
    plugintype: 'draw',
    id: 'draw',
    type: 'draw',
    title: 'Drawing board',
    icon: '/widgets/draw/icon.svg',
    url: '/widgets/draw/',
    version: '1.0.0',
    description: 'Shared drawing board: colours, widths, undo, clear for everyone, PNG export.',
    permissions: { downloads: true },
  },
  {
    plugintype: 'file',
    id: 'files',
    type: 'file',
    title: 'File transfer',
    icon: '/widgets/files/icon.svg',
    url: '/widgets/files/',
    version: '1.0.0',
    description:
      'Send files to everyone or to one person, peer to peer: progress, cancel, SHA-256 checked by the receiver.',
    permissions: { downloads: true },
  },
  {
    plugintype: 'game',
    id: 'pingpong',
    type: 'pingpong',
    title: 'Ping-pong',
    icon: '/widgets/pingpong/icon.svg',
    url: '/widgets/pingpong/',
    version: '1.0.0',
    description:
      'Ping-pong for two players in real time; everyone else watches. Score kept, fair start.',
  },
  {
    plugintype: 'media',
    id: 'visualizer',
    type: 'visualizer',
    title: 'Audio visualizer',
    icon: '/widgets/visualizer/icon.svg',
    url: '/widgets/visualizer/',
    version: '1.0.0',
    description: 'Frequency bars for everyone in the call, from the host’s audio levels (30 fps).',
    permissions: { media: { levels: true } },
  },
  {
    plugintype: 'chat',
    id: 'polyglot',
    type: 'chat',
    title: 'Multilingual chat',
    icon: '/widgets/polyglot/icon.svg',
    url: '/widgets/polyglot/',
    version: '1.0.0',
    description:
      'Chat that everyone reads in their own language (the server’s translation provider), with the original one click away.',
    permissions: { media: { translate: true, language: true } },
  },
  {
    plugintype: 'custom',
    id: 'intro',
    type: 'intro',
    title: 'Introductions',
    icon: '/widgets/intro/icon.svg',
    url: '/widgets/intro/',
    version: '1.0.0',
    description:
      'Introduce yourself: name, role, language and a link, for everyone including late joiners; the room’s agenda on joining.',
    permissions: { media: { language: true } },
  },
  {
    plugintype: 'media',
    id: 'filters',
    type: 'filters',
    title: 'Video filters',
    icon: '/widgets/filters/icon.svg',
    url: '/widgets/filters/',
    version: '1.0.0',
    description:
      'Colour filters, background blur or pictures and face overlays for your own video, applied by the call page (docs/effects.md).',
    permissions: { media: { processor: true } },
  },
];
