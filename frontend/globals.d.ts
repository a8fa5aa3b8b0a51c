// What esbuild (build.mjs) lets the sources import besides modules: stylesheets.
declare module "*.css";
