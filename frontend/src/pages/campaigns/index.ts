// The segment and campaign pages (routes.tsx loads this lazily, as one chunk).
import "./campaigns.css";

export { CampaignPage, CampaignWizardPage, CampaignsPage } from "./CampaignsPage";
export { SegmentsPage } from "../segments/SegmentsPage";
