import { describe, expect, it } from 'vitest';
import { stageSecretNames } from './stage-secrets.ts';

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
    expect(stageSecretNames(FILE, 'build')).toEqual(['db_password', 'docker_password', 'global_secret', 'npm_token', 'registry_auth']);
  });

  it('lists only the named pipeline\'s secrets', () => {
    expect(stageSecretNames(FILE, 'deploy')).toEqual(['deploy_key']);
  });

  it('lists none for a pipeline the file does not have, or a file that does not parse', () => {
    expect(stageSecretNames(FILE, 'nope')).toEqual([]);
    expect(stageSecretNames('kind: pipeline\nsteps: [', 'build')).toEqual([]);
  });
});
