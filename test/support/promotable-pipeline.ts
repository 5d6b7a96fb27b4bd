// A pipeline file for builds no webhook starts: `default` runs for pushes and manual
// builds and prints a build parameter, read as a variable and substituted as ${GREETING};
// `deploy` runs only for promotions and rollbacks to production and prints what they carry.
export const PROMOTABLE_PIPELINE = `kind: pipeline
type: docker
name: default
trigger:
  event: [push, custom]
steps:
- name: show
  image: alpine:3
  commands:
  - echo "greeting=$GREETING"
  - echo "substituted=\${GREETING}"
  - echo "event=$DRONE_BUILD_EVENT branch=$DRONE_BRANCH"
---
kind: pipeline
type: docker
name: deploy
trigger:
  event: [promote, rollback]
  target: [production]
steps:
- name: ship
  image: alpine:3
  commands:
  - echo "event=$DRONE_BUILD_EVENT deploy_to=$DRONE_DEPLOY_TO parent=$DRONE_BUILD_PARENT region=$REGION"
`;
