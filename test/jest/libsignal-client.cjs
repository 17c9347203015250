// @signalapp/libsignal-client ships only ES modules, which Jest's CommonJS runtime cannot
// require. Node itself can (require of ES modules, Node 20.19+), so tests load the package
// through Node's own loader, outside Jest's module registry.
const { createRequire } = process.getBuiltinModule('node:module');

module.exports = createRequire(__filename)('@signalapp/libsignal-client');
