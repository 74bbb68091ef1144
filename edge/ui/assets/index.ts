// The public face of edge/ui/assets/: what the dashboard serves besides its pages.

export { APP_JS } from "./client";
export { APP_CSS } from "./styles";
export { UPLOT_CSS, UPLOT_JS, UPLOT_VERSION } from "./uplot.generated";
