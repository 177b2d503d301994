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
