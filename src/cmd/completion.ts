// `portcullis completion bash|zsh|fish`: a shell completion script written from the commander
// program itself (its commands, options, option choices and which values are files), so it
// cannot drift from --help. The scripts are static, like cobra's and kubectl's: completing a
// word never starts Node. commander offers no completion of its own, and the helpers that add
// it (tabtab, omelette) run the CLI on every Tab press and install into the user's dotfiles.
import { Command, type Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What may follow an option: nothing, one of some words, a file name, or anything. */
type Value = { kind: 'none' } | { kind: 'words'; words: string[] } | { kind: 'file' } | { kind: 'any' };

interface OptionModel {
  long: string | null;
  short: string | null;
  description: string;
  value: Value;
}

interface CommandModel {
  name: string;
  description: string;
  options: OptionModel[];
  /** What positional arguments are. */
  args: Value;
}

// Every word goes into a script unquoted or inside single quotes; the program's own flags,
// command names and choices are all of this shape, and a test keeps them so.
const WORD = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function word(w: string): string {
  if (!WORD.test(w)) throw new Error(`completion: ${JSON.stringify(w)} is not a plain word`);
  return w;
}

function flagWord(flag: string): string {
  if (!/^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(flag)) throw new Error(`completion: ${JSON.stringify(flag)} is not a plain flag`);
  return flag;
}

function valueOf(placeholder: string | undefined, choices: readonly string[] | undefined): Value {
  if (choices) return { kind: 'words', words: choices.map(word) };
  if (placeholder === undefined) return { kind: 'none' };
  return /file|dir|path/.test(placeholder) ? { kind: 'file' } : { kind: 'any' };
}

function optionModel(o: Option): OptionModel {
  const placeholder = o.required || o.optional ? /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] : undefined;
  return {
    long: o.long ? flagWord(o.long) : null,
    short: o.short ? flagWord(o.short) : null,
    description: o.description,
    value: valueOf(placeholder, o.argChoices),
  };
}

function commandModel(cmd: Command): CommandModel {
  const help = cmd.createHelp();
  const first = cmd.registeredArguments[0];
  const args: Value =
    first === undefined
      ? { kind: 'none' }
      : first.argChoices
        ? valueOf(undefined, first.argChoices)
        : /path|file|dir/.test(first.name())
          ? { kind: 'file' }
          : { kind: 'any' };
  return { name: word(cmd.name()), description: cmd.description(), options: help.visibleOptions(cmd).map(optionModel), args };
}

function model(program: Command): { root: CommandModel; commands: CommandModel[] } {
  const help = program.createHelp();
  const commands = help.visibleCommands(program).map(commandModel);
  // `help <command>` takes a command's name.
  const names = commands.filter((c) => c.name !== 'help').map((c) => c.name);
  for (const c of commands) if (c.name === 'help') c.args = { kind: 'words', words: names };
  return { root: commandModel(program), commands };
}

const flagsOf = (c: CommandModel) => c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== null));

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Text inside single quotes in bash, zsh and fish alike ('\'' ends, escapes and reopens). */
const singleQuoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(program: Command): string {
  const { root, commands } = model(program);
  const name = word(root.name);
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  const valueCase = (v: Value) =>
    v.kind === 'words'
      ? `COMPREPLY=($(compgen -W '${v.words.join(' ')}' -- "$cur"))`
      : v.kind === 'file'
        ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`
        : 'COMPREPLY=()';
  const commandCase = (c: CommandModel) => {
    const withValue = c.options.filter((o) => o.value.kind !== 'none');
    const valueLines = withValue.map((o) => `        ${[o.long, o.short].filter(Boolean).join('|')}) ${valueCase(o.value)}; return ;;`);
    return [
      `    ${c.name})`,
      ...(valueLines.length > 0 ? ['      case "$prev" in', ...valueLines, '      esac'] : []),
      `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W '${flagsOf(c).join(' ')}' -- "$cur")); else ${valueCase(c.args)}; fi`,
      '      ;;',
    ].join('\n');
  };
  return [
    `# bash completion for ${name}. Load it with:  source <(${name} completion bash)`,
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" command="" i',
    // The first word that is not a flag names the command: the program's own flags take no value.
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    if [[ "${COMP_WORDS[i]}" != -* ]]; then command="${COMP_WORDS[i]}"; break; fi',
    '  done',
    '  case "$command" in',
    `    "") COMPREPLY=($(compgen -W '${[...commands.map((c) => c.name), ...flagsOf(root)].join(' ')}' -- "$cur")) ;;`,
    ...commands.map(commandCase),
    '  esac',
    '}',
    `complete -F ${fn} ${name}`,
    '',
  ].join('\n');
}

/** A description inside an _arguments spec's [...] or a _describe item: no brackets or colons. */
const zshText = (s: string) => oneLine(s).replace(/\[/g, '(').replace(/\]/g, ')').replace(/:/g, '\\:');

function zsh(program: Command): string {
  const { root, commands } = model(program);
  const name = word(root.name);
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const action = (v: Value, label: string) =>
    v.kind === 'words' ? `:${label}:(${v.words.join(' ')})` : v.kind === 'file' ? `:${label}:_files` : v.kind === 'any' ? `:${label}: ` : '';
  const spec = (o: OptionModel) => {
    const flags = [o.long, o.short].filter((f): f is string => f !== null);
    // Options that take a value may be given again (--policy, --format collect every value);
    // a flag is offered once, and not after its other spelling.
    const alone = flags.length > 1 ? `{${flags.join(',')}}` : flags[0];
    const names = o.value.kind !== 'none' ? `'*'${alone}` : flags.length > 1 ? `'(${flags.join(' ')})'${alone}` : alone;
    return `${names}${singleQuoted(`[${zshText(o.description)}]${action(o.value, (o.long ?? o.short ?? 'value').replace(/^-+/, ''))}`)}`;
  };
  const argSpec = (c: CommandModel) => (c.args.kind === 'none' ? [] : [singleQuoted(`*${action(c.args, 'argument')}`)]);
  return [
    `#compdef ${name}`,
    `# zsh completion for ${name}. Load it with:  source <(${name} completion zsh)`,
    `# or save it as _${name} in a directory of $fpath.`,
    `${fn}() {`,
    '  local curcontext="$curcontext" state line',
    '  typeset -A opt_args',
    '  local -a commands',
    `  commands=(${commands.map((c) => singleQuoted(`${c.name}:${zshText(c.description)}`)).join(' ')})`,
    `  _arguments -C ${root.options.map(spec).join(' ')} '1: :->command' '*:: :->args'`,
    '  case $state in',
    `    command) _describe -t commands '${name} command' commands ;;`,
    '    args)',
    '      case $line[1] in',
    ...commands.map((c) => `        ${c.name}) _arguments ${[...c.options.map(spec), ...argSpec(c)].join(' ')} ;;`),
    '      esac',
    '      ;;',
    '  esac',
    '}',
    `if [[ $zsh_eval_context[-1] == loadautofunc ]]; then ${fn} "$@"; else compdef ${fn} ${name}; fi`,
    '',
  ].join('\n');
}

function fish(program: Command): string {
  const { root, commands } = model(program);
  const name = word(root.name);
  const optionLine = (condition: string, o: OptionModel) => {
    const parts = [`complete -c ${name} -n ${singleQuoted(condition)}`];
    if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
    if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
    if (o.value.kind === 'words') parts.push(`-x -a ${singleQuoted(o.value.words.join(' '))}`);
    else if (o.value.kind === 'file') parts.push('-r -F');
    else if (o.value.kind === 'any') parts.push('-x');
    parts.push(`-d ${singleQuoted(oneLine(o.description))}`);
    return parts.join(' ');
  };
  const lines = [
    `# fish completion for ${name}. Load it with:  ${name} completion fish | source`,
    `# or save it as ~/.config/fish/completions/${name}.fish.`,
    `complete -c ${name} -f`,
    ...root.options.map((o) => optionLine('__fish_use_subcommand', o)),
    ...commands.map((c) => `complete -c ${name} -n __fish_use_subcommand -a ${c.name} -d ${singleQuoted(oneLine(c.description))}`),
  ];
  for (const c of commands) {
    const condition = `__fish_seen_subcommand_from ${c.name}`;
    lines.push(...c.options.map((o) => optionLine(condition, o)));
    if (c.args.kind === 'words')
      lines.push(
        `complete -c ${name} -n ${singleQuoted(`${condition}; and not __fish_seen_subcommand_from ${c.args.words.join(' ')}`)} -a ${singleQuoted(c.args.words.join(' '))}`,
      );
    if (c.args.kind === 'file') lines.push(`complete -c ${name} -n ${singleQuoted(condition)} -F`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  return { bash, zsh, fish }[shell](program);
}
