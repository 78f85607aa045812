export { ManualClock, type Clock, type TimerHandle } from './clock.js';
export { TimerWheel, nodeWheelDriver, type TimerWheelOptions, type WheelDriver } from './wheel.js';
export { realClock } from './real.js';
