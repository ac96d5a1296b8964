// Writes bench/policy-200.json: a plan policy of exactly 200 rules spread
// over every category, used by `cargo bench`, the JavaScript benchmark and
// the TypeScript reference alike. Run it again after changing the rule mix:
//   node bench/generate-policy.mjs
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

function rules(count, make) {
  return Array.from({ length: count }, (_, index) => make(index))
}

// Each category cycles through a few pattern shapes, so every matcher path
// (absolute, anywhere and worktree-relative globs, hosts and URLs, tool
// names, command words) has tens of rules.
const fileEdit = rules(40, (i) => {
  switch (i % 4) {
    case 0: return { pattern: `**/secrets_${i}/**`, decision: 'deny' }
    case 1: return { pattern: `config/env_${i}.json`, decision: 'ask-user' }
    case 2: return { pattern: `/etc/service_${i}/**`, decision: 'deny' }
    default: return { pattern: `**/*.gen${i}.ts`, decision: 'auto-approve', exception: true }
  }
})

const fileRead = rules(20, (i) =>
  i % 2 === 0
    ? { pattern: `**/private_${i}/*.key`, decision: 'deny' }
    : { pattern: `/var/log/app_${i}/**`, decision: 'auto-approve' },
)

const shellCommand = rules(50, (i) => {
  switch (i % 4) {
    case 0: return { pattern: `deploy_${i} *`, decision: 'deny' }
    case 1: return { pattern: `git push remote_${i} *`, decision: 'ask-user' }
    case 2: return { pattern: `make target_${i}`, decision: 'auto-approve' }
    default: return { pattern: `docker run image_${i} *`, decision: 'deny' }
  }
})

const installPackages = rules(10, (i) =>
  i % 2 === 0
    ? { pattern: `pip install pkg_${i}`, decision: 'deny' }
    : { pattern: `npm install lib_${i}`, decision: 'auto-approve' },
)

const networkAccess = rules(40, (i) => {
  switch (i % 4) {
    case 0: return { pattern: `*.corp${i}.example.com`, decision: 'deny' }
    case 1: return { pattern: `api${i}.example.org`, decision: 'auto-approve' }
    case 2: return { pattern: `https://docs${i}.example.net/**`, decision: 'auto-approve' }
    default: return { pattern: `http://*.internal${i}/**`, decision: 'deny' }
  }
})

const mcpTools = rules(40, (i) => {
  switch (i % 4) {
    case 0: return { pattern: `server${i}_*`, decision: 'auto-approve' }
    case 1: return { pattern: `github${i}_delete_*`, decision: 'deny' }
    case 2: return { pattern: `db${i}_query`, decision: 'ask-user' }
    default: return { pattern: `tracker${i}_read_*`, decision: 'auto-approve', exception: true }
  }
})

const policy = {
  plan: 'bench-200-rules',
  permissions: {
    file_edit: { inside_worktree: 'auto-approve', outside_worktree: 'deny', rules: fileEdit },
    file_read: { inside_worktree: 'auto-approve', outside_worktree: 'ask-user', rules: fileRead },
    shell_command: { inside_worktree: 'auto-approve', outside_worktree: 'ask-user', rules: shellCommand },
    network_access: { default: 'ask-user', rules: networkAccess },
    install_packages: { default: 'ask-user', rules: installPackages },
    mcp_tools: { default: 'ask-user', rules: mcpTools },
    other: 'ask-user',
  },
}

const count = Object.values(policy.permissions)
  .map((section) => (typeof section === 'object' ? section.rules.length : 0))
  .reduce((sum, n) => sum + n, 0)
if (count !== 200) throw new Error(`expected 200 rules, generated ${count}`)

writeFileSync(join(here, 'policy-200.json'), JSON.stringify(policy, null, 1) + '\n')
