import { MemoryLocationStore } from '../../src/store/index.js';
import { runLocationContract } from './location-contract.js';

runLocationContract('memory', async () => new MemoryLocationStore());
