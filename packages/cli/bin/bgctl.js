#!/usr/bin/env node
// The `bgctl` command. Kept outside dist/ so package managers can link it before the first build.
import '../dist/bin.js';
