// Elements the keyboard shortcuts move focus to.
import { shallowRef } from 'vue';

/** The message box on screen (item thread or room). */
export const messageBox = shallowRef( null );

/** The item list. */
export const itemList = shallowRef( null );

/** Moves focus to the message box, if there is one. */
export function focusMessageBox() {
	const el = messageBox.value;
	if ( el && el.isConnected && el.offsetParent !== null ) {
		el.focus();
		return true;
	}
	return false;
}

/** The header's search box. */
export const searchBox = shallowRef( null );

/** Moves focus to the search box, if it is on screen. */
export function focusSearch() {
	const el = searchBox.value;
	if ( el && el.isConnected ) {
		el.focus();
		el.select();
		return true;
	}
	return false;
}
