export { codeBlockAfter } from './code-block.js';
export { quickstartOnUrl } from './quickstart-on-url.js';
export { cleanEnv, describeRun, type ShOptions, type ShProcess, type ShResult, sh, shStart } from './sh.js';
