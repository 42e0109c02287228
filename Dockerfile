# One image for the API, the worker and the migration step; docker-compose.yml picks the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so dependency layers are reused while only sources change.
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/web/package.json apps/web/
COPY libs/domain/package.json libs/domain/
COPY libs/db/package.json libs/db/
COPY libs/temporal/package.json libs/temporal/
COPY workflows/package.json workflows/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY apps apps
COPY libs libs
COPY workflows workflows
COPY tools tools
RUN npx tsc -b && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The workspace links in node_modules/@sop point at these folders, so the tree keeps its shape.
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["node", "apps/api/dist/main.js"]
