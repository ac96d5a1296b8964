// The scripted sessions the captures are made from. Each scenario has a
// script per session (the root one, plus `child` for a subagent), the prompt
// that selects it, and the reply the driver gives to each permission request.
// Token figures differ per turn, so a wrong sum shows which turn was miscounted.

import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Scripts } from './model-server.js'

const MCP_ECHO = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mcp-echo.mjs')

export type Reply = 'once' | 'always' | 'reject'

export interface ScenarioContext {
  /** Worktree (real path). */
  worktree: string
  /** Base URL of a loopback HTTP server the webfetch scenario reads. */
  webUrl: string
}

export interface Scenario {
  name: string
  summary: string
  scripts(ctx: ScenarioContext): Scripts
  prompt: string
  /** Reply to a permission request; `permission` is the OpenCode permission name (`edit`, `bash`, ...). */
  reply(permission: string, index: number): Reply
  /** Message sent with a `reject`. */
  rejectMessage?: string
  /** Permission block replacing the default one (every governed tool on `ask`). */
  permission?: Record<string, string>
  /** Extra top-level `opencode.json` keys. */
  config?(ctx: ScenarioContext): Record<string, unknown>
}

const approve = (): Reply => 'once'
const reject = (): Reply => 'reject'

export const SCENARIOS: Scenario[] = [
  {
    name: 'edit-inside',
    summary: 'write then edit a file inside the worktree; both approved once',
    prompt: '[script:edit-inside] Create notes/hello.txt, then change it.',
    reply: approve,
    scripts: ({ worktree }) => ({
      'edit-inside': {
        turns: [
          {
            toolCalls: [{ name: 'write', args: { filePath: `${worktree}/notes/hello.txt`, content: 'hello\n' } }],
            usage: { promptTokens: 1000, completionTokens: 50, cachedTokens: 200 },
          },
          {
            toolCalls: [
              { name: 'edit', args: { filePath: `${worktree}/notes/hello.txt`, oldString: 'hello', newString: 'hello, world' } },
            ],
            usage: { promptTokens: 1100, completionTokens: 60, cachedTokens: 900 },
          },
          { text: 'Created and edited notes/hello.txt.', usage: { promptTokens: 1200, completionTokens: 20, cachedTokens: 1000 } },
        ],
      },
    }),
  },
  {
    name: 'write-outside',
    summary: 'write ../outside.txt (relative path) from the worktree; rejected',
    prompt: '[script:write-outside] Write ../outside.txt.',
    reply: reject,
    rejectMessage: 'writes outside the worktree are not allowed',
    scripts: () => ({
      'write-outside': {
        turns: [
          {
            toolCalls: [{ name: 'write', args: { filePath: '../outside.txt', content: 'outside\n' } }],
            usage: { promptTokens: 900, completionTokens: 40, cachedTokens: 0 },
          },
          { text: 'The write was rejected.', usage: { promptTokens: 950, completionTokens: 10 } },
        ],
      },
    }),
  },
  {
    name: 'write-outside-approved',
    summary: 'write ../outside2.txt; external_directory approved once, then the edit request rejected',
    prompt: '[script:write-outside-approved] Write ../outside2.txt.',
    reply: (permission) => (permission === 'external_directory' ? 'once' : 'reject'),
    rejectMessage: 'writes outside the worktree are not allowed',
    scripts: () => ({
      'write-outside-approved': {
        turns: [
          {
            toolCalls: [{ name: 'write', args: { filePath: '../outside2.txt', content: 'outside\n' } }],
            usage: { promptTokens: 910, completionTokens: 41 },
          },
          { text: 'The write was rejected.', usage: { promptTokens: 960, completionTokens: 11 } },
        ],
      },
    }),
  },
  {
    name: 'bash-compound',
    summary: 'one bash call with &&, ; and a pipe; approved once',
    prompt: '[script:bash-compound] Make a build dir and count files.',
    reply: approve,
    scripts: () => ({
      'bash-compound': {
        turns: [
          {
            toolCalls: [
              {
                name: 'bash',
                args: { command: 'mkdir -p build && echo hi > build/x.txt; ls | wc -l', description: 'Create build/x.txt and count entries' },
              },
            ],
            usage: { promptTokens: 800, completionTokens: 45, cachedTokens: 100 },
          },
          { text: 'Done.', usage: { promptTokens: 850, completionTokens: 5, cachedTokens: 800 } },
        ],
      },
    }),
  },
  {
    name: 'npm-install',
    summary: 'bash `npm install left-pad`; rejected so nothing is installed',
    prompt: '[script:npm-install] Install left-pad.',
    reply: reject,
    rejectMessage: 'package installs need approval',
    scripts: () => ({
      'npm-install': {
        turns: [
          {
            toolCalls: [{ name: 'bash', args: { command: 'npm install left-pad', description: 'Install left-pad' } }],
            usage: { promptTokens: 700, completionTokens: 30 },
          },
          { text: 'Not installed.', usage: { promptTokens: 750, completionTokens: 5 } },
        ],
      },
    }),
  },
  {
    name: 'webfetch',
    summary: 'webfetch of a page on a loopback HTTP server; approved once',
    prompt: '[script:webfetch] Fetch the local page.',
    reply: approve,
    scripts: ({ webUrl }) => ({
      webfetch: {
        turns: [
          {
            toolCalls: [{ name: 'webfetch', args: { url: `${webUrl}/page.txt`, format: 'text' } }],
            usage: { promptTokens: 600, completionTokens: 25, cachedTokens: 50 },
          },
          { text: 'Fetched.', usage: { promptTokens: 700, completionTokens: 5, cachedTokens: 600 } },
        ],
      },
    }),
  },
  {
    name: 'multi-step',
    summary: 'three steps in one user turn: two parallel writes, a read, a bash call, then text; with reasoning tokens',
    prompt: '[script:multi-step] Write two files, read one back, list them.',
    reply: approve,
    scripts: ({ worktree }) => ({
      'multi-step': {
        turns: [
          {
            reasoning: 'Two files are needed; write both at once.',
            toolCalls: [
              { name: 'write', args: { filePath: `${worktree}/a.txt`, content: 'a\n' } },
              { name: 'write', args: { filePath: `${worktree}/b.txt`, content: 'b\n' } },
            ],
            usage: { promptTokens: 2000, completionTokens: 120, cachedTokens: 500, reasoningTokens: 40 },
          },
          {
            toolCalls: [{ name: 'read', args: { filePath: `${worktree}/a.txt` } }],
            usage: { promptTokens: 2300, completionTokens: 30, cachedTokens: 2000 },
          },
          {
            toolCalls: [{ name: 'bash', args: { command: 'ls a.txt b.txt', description: 'List the new files' } }],
            usage: { promptTokens: 2500, completionTokens: 35, cachedTokens: 2300, reasoningTokens: 10 },
          },
          { text: 'Both files exist.', usage: { promptTokens: 2700, completionTokens: 15, cachedTokens: 2500 } },
        ],
      },
    }),
  },
  {
    name: 'always-reply',
    summary: 'bash `ls` approved with "always", then `ls -a` in the next step runs without a request',
    prompt: '[script:always-reply] List the files twice.',
    reply: () => 'always',
    scripts: () => ({
      'always-reply': {
        turns: [
          {
            toolCalls: [{ name: 'bash', args: { command: 'ls', description: 'List files' } }],
            usage: { promptTokens: 300, completionTokens: 15 },
          },
          {
            toolCalls: [{ name: 'bash', args: { command: 'ls -a', description: 'List all files' } }],
            usage: { promptTokens: 330, completionTokens: 16 },
          },
          { text: 'Listed twice.', usage: { promptTokens: 360, completionTokens: 4 } },
        ],
      },
    }),
  },
  {
    name: 'cd-parent',
    summary: 'bash `cd .. && ls` from the worktree; approved once',
    prompt: '[script:cd-parent] List the parent folder.',
    reply: approve,
    scripts: () => ({
      'cd-parent': {
        turns: [
          {
            toolCalls: [{ name: 'bash', args: { command: 'cd .. && ls', description: 'List the parent folder' } }],
            usage: { promptTokens: 500, completionTokens: 20 },
          },
          { text: 'Listed.', usage: { promptTokens: 550, completionTokens: 4 } },
        ],
      },
    }),
  },
  {
    name: 'subagent',
    summary: 'the root session calls the task tool; the child session writes a file (approved) and replies with text',
    prompt: '[script:subagent] Delegate writing child.txt.',
    reply: approve,
    scripts: ({ worktree }) => ({
      subagent: {
        turns: [
          {
            toolCalls: [
              {
                name: 'task',
                args: {
                  description: 'Write child.txt',
                  prompt: '[script:child] Write child.txt in the project.',
                  subagent_type: 'general',
                },
              },
            ],
            usage: { promptTokens: 3000, completionTokens: 70, cachedTokens: 1000 },
          },
          { text: 'The subagent wrote child.txt.', usage: { promptTokens: 3200, completionTokens: 12, cachedTokens: 3000 } },
        ],
      },
      child: {
        turns: [
          {
            toolCalls: [{ name: 'write', args: { filePath: `${worktree}/child.txt`, content: 'from child\n' } }],
            usage: { promptTokens: 400, completionTokens: 33, cachedTokens: 0 },
          },
          { text: 'child.txt written.', usage: { promptTokens: 450, completionTokens: 7, cachedTokens: 400 } },
        ],
      },
    }),
  },
]

/** Needs an MCP server and a permission rule for its tools, so it is kept apart from the list above. */
export const MCP_SCENARIO: Scenario = {
  name: 'mcp-tool',
  summary: 'calls the `echo` tool of a local stdio MCP server named `probe`; approved once',
  prompt: '[script:mcp-tool] Echo hello through the MCP tool.',
  reply: approve,
  permission: { edit: 'ask', bash: 'ask', webfetch: 'ask', external_directory: 'ask', 'probe_*': 'ask' },
  config: () => ({ mcp: { probe: { type: 'local', command: [process.execPath, MCP_ECHO], enabled: true } } }),
  scripts: () => ({
    'mcp-tool': {
      turns: [
        {
          toolCalls: [{ name: 'probe_echo', args: { text: 'hello' } }],
          usage: { promptTokens: 650, completionTokens: 22 },
        },
        { text: 'Echoed.', usage: { promptTokens: 700, completionTokens: 3 } },
      ],
    },
  }),
}

SCENARIOS.push(MCP_SCENARIO)

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name)
  if (!scenario) {
    throw new Error(`unknown scenario "${name}"; expected one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  return scenario
}
