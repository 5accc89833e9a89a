export { FSQ_CAPABILITIES } from './capabilities.js';
export { fromUrl, schemes } from './from-url.js';
export { type FsqOptions, fsqAdapter } from './fsq-adapter.js';
export { countStates, DIRS, formatState, parseState, type StateMode, type StateName } from './layout.js';
