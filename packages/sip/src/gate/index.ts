export { Gate, type Ban, type GateOptions } from './gate.js';
