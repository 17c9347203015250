'use strict';
/**
 * ADR 0001's module boundaries as a lint rule. A feature module (src/modules/<m>) may use
 * another module's Nest module, service and domain types, never its ports, adapters or
 * job processors: those are how the owning module reaches its own storage, and a second
 * user of them is a second writer of its tables. src/common is shared plumbing and
 * imports no feature module at all.
 */
const path = require('node:path');

const PRIVATE_PARTS = /^(ports|adapters|processors)(\/|$)/;

function relativeToRoot(root, file) {
  return path.relative(root, file).split(path.sep).join('/');
}

module.exports = {
  meta: {
    type: 'problem',
    docs: { description: "Keeps modules out of each other's ports and adapters (ADR 0001)" },
    schema: [],
    messages: {
      commonImportsModule:
        'src/common must not import a feature module ({{target}}); invert the dependency (a port in common, implemented by the module).',
      privatePart:
        "Module '{{from}}' must not import '{{to}}' {{part}} ({{target}}); use its service, its Nest module or its domain types.",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = relativeToRoot(root, context.filename);
    const owner = /^src\/modules\/([^/]+)\//.exec(file);
    const inCommon = file.startsWith('src/common/');
    if (!owner && !inCommon) return {};

    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = relativeToRoot(root, path.resolve(path.dirname(context.filename), source));
      const hit = /^src\/modules\/([^/]+)\/(.*)$/.exec(target);
      if (!hit) return;
      if (inCommon) {
        context.report({ node, messageId: 'commonImportsModule', data: { target } });
        return;
      }
      const [, to, rest] = hit;
      const part = PRIVATE_PARTS.exec(rest);
      if (to !== owner[1] && part) {
        context.report({
          node,
          messageId: 'privatePart',
          data: { from: owner[1], to, part: part[1], target },
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
