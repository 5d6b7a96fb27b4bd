# Harrier's image: one image for `harrier server`, `harrier runner` and `harrier migrate`
# (see docker-compose.yaml). Build with: docker build -t harrier:local .

FROM node:20-bookworm-slim AS build
# python3, make and g++ build better-sqlite3 where no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# npm 11 honours package.json's allowScripts (only better-sqlite3 and esbuild run install
# scripts; Prisma's engine download is denied). The image's own npm is 10.
RUN npm install -g npm@11
WORKDIR /app
# web/ is an npm workspace of the root: its package.json belongs to the one install.
COPY package.json package-lock.json ./
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY . .
# Generates the Prisma clients and compiles dist/ (and the web UI when web/ exists);
# it adopts the node_modules installed above instead of reinstalling.
RUN node scripts/prepare.mjs build && mkdir -p web/dist
# What runs needs only "dependencies" (test/deploy checks product code imports no dev package).
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# git: the runner clones repositories on its own host before steps run.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/harrier \
 && chown node:node /var/lib/harrier
WORKDIR /app
# The built tree: dist/, the pruned node_modules, and prisma/ (migrations are read at run time).
COPY --from=build /app /app
ENV NODE_ENV=production \
    HARRIER_DATA_DIR=/var/lib/harrier
# The server runs unprivileged; the runner service switches to root for the Docker socket.
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/harrier.js"]
CMD ["server"]
