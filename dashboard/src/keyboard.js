// Keyboard shortcuts, by physical key (keymap.js; a person may change
// them): j/k move in the list, Enter opens, c claims, f resolves as fine
// and s skips (each then opens the next item), r opens the resolve form, e
// escalates, / goes to the message box (the search box where there is
// none), ? lists the shortcuts, Esc closes
// what is open (and, on phones, goes back one view). On an open item, the
// actions its panels bind (itemKeys.js): n/p step through the diff's
// revisions, l switches its layout; q reverts as vandalism, v reverts and
// warns, g reverts in good faith, w warns, d tags for deletion, b reports,
// a asks the editor, t thanks, m marks as patrolled.

import { useSessionStore } from './stores/session.js';
import { useQueuesStore } from './stores/queues.js';
import { useItemStore } from './stores/item.js';
import { useConductStore } from './stores/conduct.js';
import { useModerationStore } from './stores/moderation.js';
import { route, go } from './router.js';
import { focusMessageBox, focusSearch, itemList } from './focus.js';
import { itemKey } from './itemKeys.js';
import { actionOf } from './keymap.js';

function typingIn( el ) {
	return !!( el && el.closest && el.closest( 'input, textarea, select, [contenteditable=""], [contenteditable="true"]' ) );
}

function move( d ) {
	const { list, visibleRows } = useQueuesStore();
	const n = visibleRows.length;
	if ( !n ) {
		return;
	}
	list.cursor = Math.max( 0, Math.min( n - 1, list.cursor + d ) );
	const l = itemList.value;
	if ( l && ( document.activeElement === document.body || !document.activeElement ) ) {
		l.focus();
	}
}

function back() {
	if ( route.name === 'thread' ) {
		go( 'item', route.wf, route.id );
	} else if ( ( route.name === 'item' || route.name === 'room' ) && route.wf ) {
		go( 'queue', route.wf );
	}
}

/**
 * The page's keydown handler.
 *
 * @param {KeyboardEvent} e
 */
export function onKeydown( e ) {
	const session = useSessionStore();
	if ( e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || !session.me ) {
		return;
	}
	const queues = useQueuesStore();
	const item = useItemStore();
	const current = item.current;
	if ( session.shortcutsOpen || useConductStore().prompt || useModerationStore().dialog ) {
		return; // the dialog handles its keys (Esc closes it, not the view)
	}
	const target = e.target;
	const typing = typingIn( target );
	const onItem = route.name === 'item' || route.name === 'thread';
	if ( e.key === 'Escape' ) {
		if ( current.confirm ) {
			current.confirm = null;
		} else if ( current.form ) {
			current.form = null;
		} else if ( onItem && itemKey( 'Escape', e ) ) {
			// a panel's form closed
		} else if ( typing ) {
			target.blur();
		} else {
			back();
		}
		return;
	}
	if ( typing ) {
		return;
	}
	const onControl = target && target.closest && target.closest( 'button, a[href], summary' );
	if ( e.key === 'Enter' ) {
		if ( onControl ) {
			return;
		}
		if ( route.name === 'queue' || route.name === 'item' || route.name === 'thread' ) {
			e.preventDefault();
			queues.openCursor();
		}
		return;
	}
	const action = actionOf( e );
	switch ( action ) {
		case 'next':
			e.preventDefault();
			move( 1 );
			break;
		case 'previous':
			e.preventDefault();
			move( -1 );
			break;
		case 'claim': {
			e.preventDefault();
			if ( current.id ) {
				item.claimWhenLoaded( current.id );
			} else {
				const r = queues.visibleRows[ queues.list.cursor ];
				if ( r && route.wf ) {
					item.claimWhenLoaded( r.id );
					go( 'item', route.wf, r.id );
				}
			}
			break;
		}
		case 'fine':
			e.preventDefault();
			item.fine();
			break;
		case 'skip':
			e.preventDefault();
			item.skip();
			break;
		case 'resolve':
			e.preventDefault();
			item.openForm( 'resolve' );
			break;
		case 'escalate':
			e.preventDefault();
			item.openForm( 'escalate' );
			break;
		case 'message':
			if ( focusMessageBox() ) {
				e.preventDefault();
			} else if ( route.name === 'item' && route.wf ) {
				// Phones show the thread as a view of its own.
				e.preventDefault();
				go( 'thread', route.wf, route.id );
				setTimeout( focusMessageBox, 50 );
			} else if ( focusSearch() ) {
				e.preventDefault();
			}
			break;
		case 'help':
			e.preventDefault();
			session.shortcutsOpen = true;
			break;
		default:
			if ( onItem && action ) {
				itemKey( action, e );
			}
	}
}
