// The languages Harrier recognises and, for each, the Drone pipeline it proposes
// for a repository that has no pipeline file of its own. The proposal is a
// starting point the user edits in the language settings; builds run it until
// the repository commits its own .drone.yml.
//
// Each step runs in a fresh container and only the workspace (/drone/src) is
// shared between steps, so a step that installs outside the workspace (pip,
// bundler, hex, NuGet) runs the tests in the same step.
import { stringify } from 'yaml';

export const LANGUAGE_IDS = [
  'node',
  'go',
  'python',
  'java-maven',
  'java-gradle',
  'rust',
  'ruby',
  'php',
  'elixir',
  'dotnet',
  'generic',
] as const;
export type LanguageId = (typeof LANGUAGE_IDS)[number];

export interface Language {
  id: LanguageId;
  /** How people name it, for the settings page. */
  name: string;
  /** The public image the proposal's steps run in. */
  image: string;
  /** The proposal's steps: name and shell commands, each run in `image`. */
  steps: { name: string; commands: string[] }[];
}

export const LANGUAGES: readonly Language[] = [
  {
    id: 'node',
    name: 'Node.js',
    image: 'node:20',
    // node_modules lives in the workspace, so installing once serves the later steps.
    steps: [
      { name: 'install', commands: ['npm ci'] },
      { name: 'build', commands: ['npm run build --if-present'] },
      { name: 'test', commands: ['npm test'] },
    ],
  },
  {
    id: 'go',
    name: 'Go',
    image: 'golang:1.22',
    steps: [
      { name: 'build', commands: ['go build ./...'] },
      { name: 'test', commands: ['go vet ./...', 'go test ./...'] },
    ],
  },
  {
    id: 'python',
    name: 'Python',
    image: 'python:3.12',
    // Detected from requirements.txt, pyproject.toml or setup.py: install whichever the repository has.
    steps: [
      {
        name: 'test',
        commands: [
          'if [ -f requirements.txt ]; then pip install -r requirements.txt; fi',
          'if [ -f pyproject.toml ] || [ -f setup.py ]; then pip install .; fi',
          'pip install pytest',
          'python -m pytest',
        ],
      },
    ],
  },
  {
    id: 'java-maven',
    name: 'Java (Maven)',
    image: 'maven:3-eclipse-temurin-21',
    // verify compiles, tests and packages in one go; a second step would download the dependencies again.
    steps: [{ name: 'test', commands: ['mvn -B verify'] }],
  },
  {
    id: 'java-gradle',
    name: 'Java (Gradle)',
    image: 'gradle:8-jdk21',
    steps: [{ name: 'test', commands: ['gradle --no-daemon build'] }],
  },
  {
    id: 'rust',
    name: 'Rust',
    image: 'rust:1',
    steps: [
      { name: 'build', commands: ['cargo build --verbose'] },
      { name: 'test', commands: ['cargo test --verbose'] },
    ],
  },
  {
    id: 'ruby',
    name: 'Ruby',
    image: 'ruby:3.3',
    steps: [{ name: 'test', commands: ['bundle install --jobs 4', 'bundle exec rake'] }],
  },
  {
    id: 'php',
    name: 'PHP',
    // Composer's image carries PHP's command line, so one image installs and tests.
    image: 'composer:2',
    steps: [
      { name: 'install', commands: ['composer install --no-interaction --prefer-dist'] },
      { name: 'test', commands: ['vendor/bin/phpunit'] },
    ],
  },
  {
    id: 'elixir',
    name: 'Elixir',
    image: 'elixir:1.16',
    steps: [{ name: 'test', commands: ['mix local.hex --force', 'mix local.rebar --force', 'mix deps.get', 'mix test'] }],
  },
  {
    id: 'dotnet',
    name: '.NET',
    image: 'mcr.microsoft.com/dotnet/sdk:8.0',
    steps: [{ name: 'test', commands: ['dotnet restore', 'dotnet build --no-restore', 'dotnet test --no-build'] }],
  },
  {
    id: 'generic',
    name: 'Other',
    image: 'alpine:3',
    steps: [
      {
        name: 'build',
        commands: [
          'echo "Harrier did not recognise the language; edit this pipeline in the repository\'s settings or commit a .drone.yml"',
          'ls -la',
        ],
      },
    ],
  },
];

const byId = new Map<string, Language>(LANGUAGES.map((l) => [l.id, l]));

export function isLanguageId(id: string): id is LanguageId {
  return byId.has(id);
}

export function language(id: LanguageId): Language {
  return byId.get(id)!;
}

/** The pipeline proposed for a language, as the .drone.yml text the settings page shows and builds run. */
export function defaultProposal(id: LanguageId): string {
  const lang = language(id);
  const pipeline = {
    kind: 'pipeline',
    type: 'docker',
    name: 'default',
    steps: lang.steps.map((step) => ({ name: step.name, image: lang.image, commands: step.commands })),
  };
  const header = [
    `# Proposed by Harrier (language: ${lang.name}). Edit it in the repository's settings,`,
    '# or commit it as .drone.yml to keep it with the code.',
  ];
  // Laid out as Drone's examples are; lineWidth 0 keeps a long command on one line instead of folding it.
  return `${header.join('\n')}\n${stringify(pipeline, { lineWidth: 0, indentSeq: false })}`;
}
