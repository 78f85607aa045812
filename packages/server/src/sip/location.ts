/** The location service lives in the Store family (store/location.ts; Redis: store/redis/location.ts). */
export { MemoryLocationStore, type Binding, type LocationStore } from '../store/location.js';
