import type { Output } from './commands.ts'
import type { Logger } from './log.ts'
export async function demoCommand(_args: string[], _out: Output, _logger: Logger): Promise<number> {
  throw new Error('not yet')
}
