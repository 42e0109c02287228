# One image for the API, the worker and the migration step; docker-compose.yml picks the command.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first: the npm ci layer is reused until a dependency changes, not on every source edit.
COPY package.json package-lock.json ./
COPY libs/domain/package.json libs/domain/
COPY libs/db/package.json libs/db/
COPY libs/engine/package.json libs/engine/
COPY libs/temporal/package.json libs/temporal/
COPY libs/notify/package.json libs/notify/
COPY libs/wecom/package.json libs/wecom/
COPY workflows/package.json workflows/
COPY apps/worker/package.json apps/worker/
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
# A workspace missing from the lines above would be left unlinked without an error: stop here instead.
RUN node -e "const m=require('./package.json').workspaces.filter(w=>!require('fs').existsSync(w+'/package.json')); \
  if(m.length){console.error('Dockerfile: add a COPY line for workspace(s) '+m.join(', '));process.exit(1)}"
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY libs libs
COPY workflows workflows
COPY apps apps
COPY tools tools
# Build every workspace into its dist/ and the console into apps/web/dist, then drop dev dependencies
# (the @sop/* workspace links stay).
RUN npx tsc -b && npx tsc -p apps/web && npm run build -w apps/web && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# The whole tree, not only dist/: node_modules/@sop/* are symlinks into libs/, workflows/ and apps/,
# the API serves apps/web/dist, and the worker bundles workflows/ at start. Owned by root, so the
# non-root process can read but not modify its own code.
COPY --from=build /app /app
USER node
EXPOSE 3000
CMD ["node", "apps/api/dist/main.js"]
