export { DONE, NEXT, Route, type Stage, type Verdict } from './route.js';
