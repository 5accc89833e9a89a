// Loaded by the conformance suite in the worker-crash case's child process: the child opens
// the same folder through the installed package, as another process of the application would.
import { fsqAdapter } from 'bg-adapter-fsq';

export default () => fsqAdapter({ root: process.env.FSQ_ROOT });
