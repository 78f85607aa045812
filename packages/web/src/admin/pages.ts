/**
 * The console's pages, in navigation order: one `registerPage(…)` line per page (page.ts has
 * the API, docs/console.md the how-to). The SIP pages keep their ids (`#status`, `#users`…).
 */
import { messagesTab } from './messages.js';
import { registerPage } from './page.js';
import { auditPage } from './pages/audit.js';
import { clusterPage } from './pages/cluster.js';
import { mediaPage } from './pages/media.js';
import { overviewPage } from './pages/overview.js';
import { roomsPage } from './pages/rooms.js';
import { sbcPage } from './pages/sbc.js';
import { turnPage } from './pages/turn.js';
import { widgetsPage } from './pages/widgets.js';
import { bansTab, callsTab, registrationsTab, settingsTab, statusTab, usersTab } from './views.js';

// --- the platform ---------------------------------------------------------------------------------
registerPage(overviewPage);
registerPage(roomsPage);
registerPage(widgetsPage);
registerPage(turnPage);
registerPage(clusterPage);
registerPage(auditPage);

// --- media plane (docs/media.md) -----------------------------------------------------------------
registerPage(mediaPage);
registerPage(sbcPage); // docs/sbc.md

// --- SIP server ------------------------------------------------------------------------------------
registerPage({ ...statusTab, icon: 'status', group: 'SIP' });
registerPage({ ...registrationsTab, icon: 'registrations', group: 'SIP' });
registerPage({ ...usersTab, icon: 'users', group: 'SIP' });
registerPage({ ...callsTab, icon: 'calls', group: 'SIP' });
registerPage({ ...messagesTab, icon: 'messages', group: 'SIP', keepOnArg: true });
registerPage({ ...bansTab, icon: 'bans', group: 'SIP' });
registerPage({ ...settingsTab, icon: 'settings', group: 'SIP' });
