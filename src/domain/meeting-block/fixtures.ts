/**
 * Meeting bodies as Outlook, Teams and Skype for Business write them, for tests. Hand-written after the published
 * templates; every id, number and tenant is made up (555 numbers, contoso/fabrikam).
 */

import type { BlockInput } from './render-block.js';

/** A typical organizer: Microsoft bridge, toll and toll-free numbers, shared notes. */
export const SAMPLE: BlockInput = {
  language: 'en',
  meetingId: 'mtg-4f1c2a',
  joinUrl: 'https://meet.contoso.com/ashaw/K7X2NQ4T?tenant=contoso&src=outlook',
  dialIn: {
    provider: 'Microsoft',
    providerName: null,
    toll: { number: '+14255550100', label: 'Seattle' },
    tollFree: { number: '+18005550199', label: 'United States' },
    conferenceId: '1234567',
    localNumbersUrl: 'https://dialin.contoso.com/?id=1234567',
  },
  sharedNotesUrl: 'https://contoso.sharepoint.com/sites/notes/meeting-4f1c2a',
};

export const U80 = '_'.repeat(80);
export const DOTS = '.'.repeat(137);

export const TEAMS_JOIN_URL =
  'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NzQ5ZjA0YzYtMzE4Ny00YmU3LWE0ZjMtODJhYWQ1NjFlZTI2%40thread.v2/0' +
  '?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-0000-4000-8000-000000000001%22%7d';
export const TEAMS_OPTIONS_URL =
  'https://teams.microsoft.com/meetingOptions/?organizerId=a1b2c3d4-0000-4000-8000-000000000001' +
  '&tenantId=72f988bf-86f1-41af-91ab-2d7cd011db47&threadId=19_meeting_NzQ5ZjA0YzYtMzE4Ny00@thread.v2&messageId=0&language=en-US';
export const TEAMS_LOCAL_URL = 'https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=612345789';

/** The Teams block lines as Outlook puts them in DESCRIPTION (links as `text<url>`), without delimiters. */
export const TEAMS_TEXT_LINES = [
  'Microsoft Teams meeting',
  'Join on your computer, mobile app or room device',
  `Click here to join the meeting<${TEAMS_JOIN_URL}>`,
  'Meeting ID: 245 118 377 604',
  'Passcode: Qw7xZp',
  'Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>',
  'Or call in (audio only)',
  '+1 425-555-0100,,612345789#<tel:+14255550100,,612345789#>   United States, Seattle',
  '(866) 555-0199,,612345789#<tel:8665550199,,612345789#>   United States (Toll-free)',
  'Phone Conference ID: 612 345 789#',
  `Find a local number<${TEAMS_LOCAL_URL}> | Reset PIN<https://dialin.teams.microsoft.com/usp/pstnconferencing>`,
  `Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<${TEAMS_OPTIONS_URL}>`,
];

export const TEAMS_TEXT_BLOCK_CRLF = [U80, ...TEAMS_TEXT_LINES, U80].join('\r\n');
export const TEAMS_TEXT_BEFORE = 'Hi all, Q3 review 🚀 — 東京チームも参加します。\r\nשלום! Café naïve (e\u0301)\r\n\r\n';
export const TEAMS_TEXT_AFTER = '\r\n\r\nAgenda:\r\n1. 数字 📊\r\n2. مراجعة\r\n';
/** A Teams meeting created in Outlook for Windows: user text, blank line, block, user text. CRLF throughout. */
export const TEAMS_TEXT_BODY = TEAMS_TEXT_BEFORE + TEAMS_TEXT_BLOCK_CRLF + TEAMS_TEXT_AFTER;

/** Newer Teams template: the options footer sits after the closing delimiter, closed by a third one. */
export const TEAMS_TEXT_WITH_FOOTER = [
  'descriptions!',
  U80,
  'Microsoft Teams Meeting',
  'Join on your computer, mobile app or room device',
  'Click to join the meeting<https://teams.live.com/meet/9385551482824?p=Nqcc5j3c06vlEOa23P>',
  'Meeting ID: 938 555 148 282 4',
  'Passcode: on3h3U',
  'Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>',
  U80,
  'Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.live.com/meetingOptions/meetings/9385551482874/view?localeCode=en-US>',
  U80,
  'See you there',
].join('\n');

/** The 2018-era Teams block ("Join Microsoft Teams Meeting", no heading line). */
export const TEAMS_LEGACY_TEXT_BLOCK = [
  U80,
  `Join Microsoft Teams Meeting<${TEAMS_JOIN_URL}>`,
  '+1 425-555-0100   United States, Seattle (Toll)',
  '(866) 555-0199   (Toll-free)',
  'Conference ID: 612 345 789#',
  `Local numbers<${TEAMS_LOCAL_URL}> | Reset PIN<https://mysettings.lync.com/pstnconferencing> | Learn more about Teams<https://aka.ms/JoinTeamsMeeting> | Meeting options<${TEAMS_OPTIONS_URL}>`,
  U80,
].join('\n');

export const SKYPE_JOIN_URL = 'https://meet.lync.com/fabrikam/ashaw/K7X2NQ4T';

/** Skype for Business Online block as Outlook shows it in text: lines of dots, links as `text <url>`. */
export const SKYPE_TEXT_BLOCK_DOTS = [
  DOTS,
  `Join Skype Meeting <${SKYPE_JOIN_URL}>`,
  `Trouble Joining? Try Skype Web App <${SKYPE_JOIN_URL}?sl=1>`,
  'Join by Phone',
  '',
  '+1 (425) 555-0100 (Seattle)                         English (United States)',
  '+33 1 70 37 55 00 (Paris)                            Français (France)',
  'Find a local number <https://dialin.lync.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=73194622>',
  '',
  'Conference ID: 73194622',
  ' Forgot your dial-in PIN? <https://dialin.lync.com/8551f4c1-bea3-441a-8738-69aa517a91c5> |Help <https://o15.officeredir.microsoft.com/r/rlidLync15?clid=1033&p1=5&p2=2009>',
  '',
  '[!OC([1033])!]',
  DOTS,
].join('\r\n');

/** The same Skype block between underscore lines, as some Outlook versions convert it. */
export const SKYPE_TEXT_BLOCK_UNDERSCORES = SKYPE_TEXT_BLOCK_DOTS.replaceAll(DOTS, U80);

const SPAN80 = `<span style="white-space:nowrap;color:#5F5F5F;opacity:.36;">${U80}</span>`;
export const TEAMS_HTML_RULE = `<div style="width:100%;height: 20px;">${SPAN80}</div>`;
const FONT = "font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif;";
const LINK = 'style="font-size: 14px;text-decoration: underline;color: #6264a7;" target="_blank" rel="noreferrer noopener"';
const amp = (url: string): string => url.replaceAll('&', '&amp;');

/** The Teams block as the Teams add-in writes it into the HTML body (X-ALT-DESC), from its first rule to its last. */
export const TEAMS_HTML_BLOCK = [
  TEAMS_HTML_RULE,
  `<div class="me-email-text" lang="en-US" style="color:#252424;${FONT}">`,
  '<div style="margin-top: 24px; margin-bottom: 20px;"><span style="font-size: 24px; color:#252424">Microsoft Teams meeting</span></div>',
  '<div style="margin-bottom: 20px;"><div style="margin-top: 0px; margin-bottom: 0px; font-weight: bold"><span style="font-size: 14px; color:#252424">Join on your computer, mobile app or room device</span></div>',
  `<a class="me-email-headline" ${LINK} href="${amp(TEAMS_JOIN_URL)}">Click here to join the meeting</a></div>`,
  '<div style="margin-bottom: 20px; margin-top: 20px"><div style="margin-bottom: 4px"><span data-tid="meeting-code" style="font-size: 14px; color:#252424;">Meeting ID: <span style="font-size:16px; color:#252424;">245 118 377 604</span></span><br><span style="font-size: 14px; color:#252424;">Passcode: </span><span style="font-size:16px; color:#252424;">Qw7xZp</span></div></div>',
  '<div style="margin-bottom: 24px; max-width: 532px;"><div style="font-size: 14px; color:#252424;">Or call in (audio only)</div>',
  `<div style="font-size: 12px;"><a class="me-email-link" ${LINK} href="tel:+14255550100,,612345789#">+1 425-555-0100,,612345789#</a> &nbsp;&nbsp;United States, Seattle</div>`,
  `<div style="font-size: 12px;"><a class="me-email-link" ${LINK} href="tel:8665550199,,612345789#">(866) 555-0199,,612345789#</a> &nbsp;&nbsp;United States (Toll-free)</div>`,
  '<div style="margin-bottom: 4px; margin-top: 4px;"><span style="font-size: 12px; color:#252424;">Phone Conference ID: </span><span style="font-size: 14px; color:#252424;">612 345 789#</span></div>',
  `<a class="me-email-link" ${LINK} href="${TEAMS_LOCAL_URL}">Find a local number</a> | <a class="me-email-link" ${LINK} href="https://dialin.teams.microsoft.com/usp/pstnconferencing">Reset PIN</a></div>`,
  `<div><a class="me-email-link" ${LINK} href="https://aka.ms/JoinTeamsMeeting">Learn More</a> | <a class="me-email-link" ${LINK} href="${amp(TEAMS_OPTIONS_URL)}">Meeting options</a></div>`,
  '</div>',
  `<div style="font-size: 14px; margin-bottom: 4px;${FONT}"></div>`,
  '<div style="font-size: 12px;"></div>',
  '<div></div>',
  TEAMS_HTML_RULE,
].join('\n');

export const TEAMS_HTML_BEFORE =
  '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n</head>\n<body>\n' +
  '<div>Hi all — agenda below 👇 <b>東京</b> עִבְרִית</div>\n<br>\n';
export const TEAMS_HTML_AFTER = '\n<div>Notes: 中文 · مرحبا · e&#769; &amp; more</div>\n</body>\n</html>\n';
export const TEAMS_HTML_BODY = TEAMS_HTML_BEFORE + TEAMS_HTML_BLOCK + TEAMS_HTML_AFTER;

const MSO_RULE = `<p class=MsoNormal><span style='color:#5F5F5F'>${U80}</span><span style='font-size:12.0pt;font-family:"Times New Roman",serif'><o:p></o:p></span></p>`;

/** A Teams block after Outlook for Windows re-saved the body as Word HTML. */
export const TEAMS_WORD_HTML_BLOCK = [
  MSO_RULE,
  `<p class=MsoNormal><span style='font-size:18.0pt;font-family:"Segoe UI",sans-serif;color:#252424'>Microsoft Teams meeting</span><o:p></o:p></p>`,
  `<p class=MsoNormal><b><span style='font-size:10.5pt;font-family:"Segoe UI",sans-serif;color:#252424'>Join on your computer, mobile app or room device</span></b><o:p></o:p></p>`,
  `<p class=MsoNormal><span style='font-family:"Segoe UI",sans-serif'><a href="${amp(TEAMS_JOIN_URL)}" target="_blank"><span style='font-size:10.5pt;color:#6264A7'>Click here to join the meeting</span></a></span><o:p></o:p></p>`,
  `<p class=MsoNormal><span style='font-size:10.5pt;font-family:"Segoe UI",sans-serif;color:#252424'>Meeting ID: 245 118 377 604<br>Passcode: Qw7xZp</span><o:p></o:p></p>`,
  `<p class=MsoNormal><a href="tel:+14255550100,,612345789#"><span style='font-size:12.0pt'>+1 425-555-0100,,612345789#</span></a>&nbsp;&nbsp; United States, Seattle<o:p></o:p></p>`,
  `<p class=MsoNormal><span style='font-size:9.0pt'>Phone Conference ID: 612 345 789#</span><o:p></o:p></p>`,
  `<p class=MsoNormal><a href="${TEAMS_LOCAL_URL}">Find a local number</a> | <a href="https://dialin.teams.microsoft.com/usp/pstnconferencing">Reset PIN</a><o:p></o:p></p>`,
  MSO_RULE,
].join('\r\n');

export const WORD_HTML_BEFORE =
  '<html xmlns:o="urn:schemas-microsoft-com:office:office">\r\n<head>\r\n<style><!-- p.MsoNormal {margin:0cm;} --></style>\r\n</head>\r\n' +
  '<body lang=EN-US>\r\n<div class=WordSection1>\r\n<p class=MsoNormal>Quarterly review — 四半期レビュー ✅ <span dir=rtl>סקירה</span><o:p></o:p></p>\r\n' +
  '<p class=MsoNormal><o:p>&nbsp;</o:p></p>\r\n<div>\r\n';
export const WORD_HTML_AFTER = '\r\n</div>\r\n<p class=MsoNormal><o:p>&nbsp;</o:p></p>\r\n</div>\r\n</body>\r\n</html>\r\n';
export const TEAMS_WORD_HTML_BODY = WORD_HTML_BEFORE + TEAMS_WORD_HTML_BLOCK + WORD_HTML_AFTER;

export const SKYPE_ONPREM_JOIN_URL = 'https://meet.fabrikam.com/zanele/RWRQKNN2';
const DOT_RULE_OPEN = `<p class="MsoNormal" style="text-autospace:none"><span style="font-size:8.0pt; color:#404040">${DOTS}</span><b><span style="font-size:14.0pt"></span></b></p>`;
const DOT_RULE_CLOSE = `<p class="MsoNormal" style="margin-bottom:10.0pt; line-height:115%; text-autospace:none">\r\n<span lang="EN" style="font-size:8.0pt; line-height:115%; color:#404040">${DOTS}</span><span lang="EN" style="font-size:10.5pt; line-height:115%"></span></p>`;

/** A Skype for Business (on-premises) block in Word HTML, lines of dots around it. */
export const SKYPE_WORD_HTML_BLOCK = [
  DOT_RULE_OPEN,
  `<p class="MsoNormal" style="text-autospace:none"><a name="OutJoinLink"><span style="font-size:14.0pt; font-family:Wingdings; color:#0066CC">\u00e0</span></a><a href="${SKYPE_ONPREM_JOIN_URL}"><span style="font-size:16.0pt; color:#0066CC">Join Skype Meeting</span></a><span style="font-size:14.0pt">&nbsp;</span></p>`,
  `<p class="MsoNormal" style="margin-left:16.0pt"><span style="font-size:10.0pt">Trouble Joining? <a href="${SKYPE_ONPREM_JOIN_URL}?sl=1"><span style="color:#0066CC">Try Skype Web App</span></a></span></p>`,
  '<p class="MsoNormal"><span style="font-size:10.0pt">Join by phone</span></p>',
  '<p class="MsoNormal"><span style="font-size:10.0pt">+27 10 555 0123 (Johannesburg)&nbsp;&nbsp;&nbsp;&nbsp;English (South Africa)</span></p>',
  '<p class="MsoNormal"><a href="https://dialin.fabrikam.com/?id=4455667"><span style="font-size:10.0pt">Find a local number</span></a></p>',
  '<p class="MsoNormal"><span style="font-size:10.0pt">Conference ID: 4455667</span></p>',
  `<p class="MsoNormal"><a href="https://o15.officeredir.microsoft.com/r/rlidLync15?clid=1033&amp;p1=5&amp;p2=2009"><span style="color:#0066CC">Help</span></a></p>`,
  '<p class="MsoNormal"><sub><span lang="EN" style="font-size:1.0pt; color:white">[!OC([1033])!]</span></sub></p>',
  DOT_RULE_CLOSE,
].join('\r\n');
export const SKYPE_WORD_HTML_BODY =
  '<html><body lang="EN-ZA"><div class="WordSection1">\r\n<p class="MsoNormal"><a name="_InsertRtfSavedPosition"></a>&nbsp;</p>\r\n' +
  SKYPE_WORD_HTML_BLOCK +
  '\r\n<p class="MsoNormal">&nbsp;</p>\r\n</div>\r\n</body>\r\n</html>\r\n';
