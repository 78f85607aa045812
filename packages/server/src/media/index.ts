export { createMediaModule, type MediaModule } from './module.js';
