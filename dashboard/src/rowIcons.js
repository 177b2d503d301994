// Icons of list rows as small SVG images (data: URLs, which img-src allows).
// Rows come and go by the dozen while scrolling; Codex's CdxIcon reads the
// computed direction of every icon it mounts, which forces a style
// recalculation per icon, so the list uses plain images of the same icons.
import { cdxIconLock, cdxIconSpeechBubble, cdxIconUserAnonymous, cdxIconUserAvatar, cdxIconUserTemporary } from '@wikimedia/codex-icons';

function uri( icon, colour ) {
	const body = typeof icon === 'string' ? icon : ( icon.ltr || icon.default || '' );
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20" fill="${ colour }">${ body }</svg>`;
	return 'data:image/svg+xml,' + encodeURIComponent( svg );
}

// Codex tokens: color-warning, color-subtle.
const WARNING = '#886425';
const SUBTLE = '#54595d';
// Codex token: color-progressive.
const PROGRESSIVE = '#36c';

export const ROW_ICONS = {
	ip: uri( cdxIconUserAnonymous, WARNING ),
	temporary: uri( cdxIconUserTemporary, WARNING ),
	account: uri( cdxIconUserAvatar, SUBTLE ),
	lock: uri( cdxIconLock, WARNING ),
	messages: uri( cdxIconSpeechBubble, SUBTLE ),
	unread: uri( cdxIconSpeechBubble, PROGRESSIVE )
};

export function performerImage( kind ) {
	return ROW_ICONS[ kind ] || ROW_ICONS.account;
}
