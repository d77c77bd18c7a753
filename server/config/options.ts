// In-process configuration: `startServer({ clientPort: 0, tickTimeMs: 500 })` takes the same typed
// fields as a parsed zoo.cfg, every one optional, and gets Apache's defaults for the rest.

import {
  ConfigError,
  FOUR_LETTER_WORDS,
  defaultConfig,
  validateConfig,
  type ServerConfig,
} from './zoo-cfg.js';

/** Fields of ServerConfig, all optional; the four-letter words may also be given as a list or '*'. */
export type ServerOptions = Partial<Omit<ServerConfig, 'fourLetterWordsEnabled'>> & {
  fourLetterWordsEnabled?: ReadonlySet<string> | readonly string[] | '*';
};

/** Builds a full config from options: defaults first (session bounds follow tickTime), then checks. */
export function configFromOptions(options: ServerOptions = {}): ServerConfig {
  const base = defaultConfig(options.tickTimeMs ?? 3000);
  const words = resolveWords(options.fourLetterWordsEnabled);
  const config: ServerConfig = {
    ...base,
    ...stripUndefined(options),
    fourLetterWordsEnabled: words ?? base.fourLetterWordsEnabled,
    // In process (tests, demos) the AdminServer stays off unless asked for; zoo.cfg follows Apache (on).
    adminServerEnabled: options.adminServerEnabled ?? false,
  };
  const words2 = new Set(config.fourLetterWordsEnabled);
  words2.add('srvr');
  if (config.readOnlyModeEnabled) words2.add('isro');
  const voters = (config.servers ?? []).filter((s) => s.role === 'participant');
  const distributed = !config.standaloneEnabled || voters.length > 1;
  if (!Number.isInteger(config.clientPort) || config.clientPort < 0 || config.clientPort > 65535) {
    throw new ConfigError('clientPort', String(config.clientPort), 'must be an integer in 0..65535');
  }
  return validateConfig({ ...config, fourLetterWordsEnabled: words2, distributed });
}

function resolveWords(words: ServerOptions['fourLetterWordsEnabled']): ReadonlySet<string> | undefined {
  if (words === undefined) return undefined;
  if (words === '*') return new Set(FOUR_LETTER_WORDS);
  return new Set(words);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
