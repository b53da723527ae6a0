# One multi-stage build for every service: docker build --build-arg SERVICE=offerset-api -t eb/offerset-api .
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm i -g pnpm@10
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig*.json ./
COPY packages packages
COPY services services
COPY tests/package.json tests/tsconfig.json tests/
RUN pnpm install --frozen-lockfile --config.manage-package-manager-versions=false && pnpm -r exec true && npx tsc -b packages/* services/*
ARG SERVICE
RUN pnpm --filter "@eb/${SERVICE}" deploy --prod --legacy /out

FROM node:20-bookworm-slim
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
