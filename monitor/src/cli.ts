/**
 * Entry point of the `mc-governance` command. Results go to stdout, logs
 * and skipped-line reports to stderr. Exit status: 0 success, 1 runtime
 * failure (or `check` found problems), 2 usage error.
 */

import { UsageError } from './cli-args.ts'
import { checkCommand, explainCommand, replayCommand, reportCommand, type Output } from './commands.ts'
import { createLogger, silentLogger, type Logger } from './log.ts'

export const USAGE = `mc-governance: permission policy and cost governance for OpenCode agents

Usage:
  mc-governance watch --url URL --worktree DIR [--policy FILE] [--plan FILE] [--job ID] [--resume-prompt TEXT] [--save-snapshot FILE]
      Govern a running \`opencode serve\`: decide each permission request,
      print decisions and a running cost line. On stdin, reply to held
      requests ("once ID", "always ID", "reject ID [message]") or raise the
      job's budget ("extend USD"); sessions a budget pause stopped then get
      --resume-prompt (default "continue").
  mc-governance replay FILE --worktree DIR [--policy FILE] [--plan FILE] [--job ID] [--save-snapshot FILE] [--json]
      Decide every permission request in an event capture (SSE text of
      GET /event, or JSON lines) and print the decisions, the budget
      actions a --plan or --policy budget would fire, and the spend.
  mc-governance check FILE
      Validate a policy, plan or global config file; exit 1 when invalid.
  mc-governance explain --worktree DIR [--policy FILE] (--command CMD | --edit PATH | --read PATH | --fetch URL | --mcp TOOL) [--json]
      Show how a policy decides one request, the effects found and the rule used.
  mc-governance report (--snapshot FILE | --replay FILE --worktree DIR) [--json]
      Show spend per job, plan and session with the token breakdown.
  mc-governance demo
      Run a scripted agent against a real \`opencode serve\` on loopback under
      the default policy and print its decisions and costs.

Options:
  --policy FILE   global config (YAML or JSON); default: the built-in safe policy
  --plan FILE     plan file; its top-level \`plan:\` names the plan
  --job ID        job id; default "main" (watch) or "replay"
  --save-snapshot FILE
                  write the cost and budget state on exit, for \`report --snapshot\`
  --json          one JSON object per line on stdout
  --quiet         no log lines on stderr
  --verbose       debug log lines on stderr
  -h, --help      show this text

Exit status: 0 success, 1 failure or invalid file (check), 2 usage error.`

const COMMANDS = ['watch', 'replay', 'check', 'explain', 'report', 'demo'] as const

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit status. */
export async function main(argv: string[], out: Output = writeStdout, err: Output = writeStderr): Promise<number> {
  const { args, quiet, verbose, help } = globalFlags(argv)
  const command = args[0]
  // The demo prints its own progress, so only its warnings and errors are logged by default.
  const defaultLevel = command === 'demo' ? 'warn' : 'info'
  const logger = quiet ? silentLogger : createLogger({ level: verbose ? 'debug' : defaultLevel })
  if (help || command === 'help') {
    out(USAGE)
    return 0
  }
  try {
    if (command === undefined) throw new UsageError('no command given', `give one of: ${COMMANDS.join(', ')}`)
    return await runCommand(command, args.slice(1), out, err, logger)
  } catch (error) {
    if (error instanceof UsageError) {
      err(`mc-governance: ${error.message}`)
      if (error.help) err(`help: ${error.help}`)
      err('run `mc-governance --help` for usage')
      return 2
    }
    err(`mc-governance: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}

async function runCommand(command: string, args: string[], out: Output, err: Output, logger: Logger): Promise<number> {
  switch (command) {
    case 'check':
      return checkCommand(args, out)
    case 'explain':
      return explainCommand(args, out)
    case 'replay':
      return replayCommand(args, out, err)
    case 'report':
      return reportCommand(args, out, err)
    case 'watch': {
      const { watchCommand } = await import('./watch.ts')
      return watchCommand(args, out, logger)
    }
    case 'demo': {
      const { demoCommand } = await import('./demo.ts')
      return demoCommand(args, out, logger)
    }
    default:
      throw new UsageError(`unknown command "${command}"`, `give one of: ${COMMANDS.join(', ')}`)
  }
}

/** Takes `--help`, `--quiet` and `--verbose` from anywhere on the line. */
function globalFlags(argv: string[]): { args: string[]; quiet: boolean; verbose: boolean; help: boolean } {
  let help = false
  let quiet = false
  let verbose = false
  const args: string[] = []
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') help = true
    else if (arg === '--quiet') quiet = true
    else if (arg === '--verbose') verbose = true
    else args.push(arg)
  }
  return { args, quiet, verbose, help }
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`)
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`)
}
