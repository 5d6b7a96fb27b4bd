import { describe, expect, it } from 'vitest';
import { build, repo, system } from '../../pipeline/testdata/fixtures.ts';
import { stageSecretNames } from './stage-secrets.ts';

const facts = { build, repo, system };

const FILE = `kind: pipeline
type: docker
name: build
environment:
  GLOBAL:
    from_secret: global_secret
  PLAIN: value
image_pull_secrets: [registry_auth]
services:
- name: db
  image: postgres
  environment:
    POSTGRES_PASSWORD:
      from_secret: db_password
steps:
- name: test
  image: node
  environment:
    NPM_TOKEN:
      from_secret: npm_token
  commands: [npm test]
- name: publish
  image: plugins/docker
  settings:
    repo: octo/app
    password:
      from_secret: docker_password
    tags: [latest]
- name: again
  image: node
  environment:
    SAME:
      from_secret: npm_token
  commands: [true]
---
kind: pipeline
type: docker
name: deploy
steps:
- name: ship
  image: alpine
  environment:
    KEY:
      from_secret: deploy_key
  commands: [true]
`;

describe('stageSecretNames', () => {
  it('lists every secret the stage\'s pipeline names, once each: environment, services, settings, image_pull_secrets', () => {
    expect(stageSecretNames(FILE, facts, 'build')).toEqual(['db_password', 'docker_password', 'global_secret', 'npm_token', 'registry_auth']);
  });

  it('lists only the named pipeline\'s secrets', () => {
    expect(stageSecretNames(FILE, facts, 'deploy')).toEqual(['deploy_key']);
  });

  it('lists none for a pipeline the file does not have, or a file that does not parse', () => {
    expect(stageSecretNames(FILE, facts, 'nope')).toEqual([]);
    expect(stageSecretNames('kind: pipeline\nsteps: [', facts, 'build')).toEqual([]);
  });

  it("reads the names with the build's facts substituted, as the runner reads them", () => {
    const file = 'kind: pipeline\nname: build\nsteps:\n- name: test\n  image: node\n  environment:\n    TOKEN:\n      from_secret: token_${DRONE_BRANCH}\n';
    expect(stageSecretNames(file, facts, 'build')).toEqual([`token_${build.target}`]);
  });
});
