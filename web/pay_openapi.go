package web

import (
	"net/http"

	"github.com/openmini/openmini/pay"
)

// tagPay groups the merchant server API in the OpenAPI document.
const tagPay = "Merchant payments"

const tagPayDescription = "The merchant server API: a merchant's servers create payment orders (then the mini program calls openmini.tradePay, " +
	"or the cashier shows the order's code), charge customers' payment codes, refund, and read orders, refunds, events and daily settlements. " +
	"Authenticate with a merchant API key from the developer console: HTTP Basic with the key id as user and the secret as password, " +
	"or `Authorization: Bearer {key id}.{secret}`. Creates need an `Idempotency-Key` header: the same key and body return the same result " +
	"(kept at least 24 hours), the same key with another body is a conflict."

// idempotencyNote ends the description of every create.
const idempotencyNote = " Send an `Idempotency-Key` header (1 to 255 printable ASCII characters, e.g. a UUID): a retry with the same key and body " +
	"returns the same result in its current state; the same key with a different body is 409 conflict; a request that failed leaves no key."

// listPage are the paging parameters of the merchant lists.
var listPage = []param{
	{"limit", "integer", "Items per page: 1 to 200, default 50."},
	{"before", "string", "The next cursor of the previous page."},
}

// payAPIOperations documents the merchant server API (see apiOperations).
func payAPIOperations() []apiOp {
	const ok, created = http.StatusOK, http.StatusCreated
	return []apiOp{
		op("GET /api/v1/merchant", "getMerchant", "The merchant the API key belongs to", tagPay, authMerchant, nil, pay.Merchant{}, ok),
		op("POST /api/v1/merchant/orders", "createOrder", "Create a payment order", tagPay, authMerchant, pay.OrderRequest{}, pay.Order{}, created).
			describe("amount is in minor units (fen for CNY); items, when given, must add up to it; app_id must be a mini program linked to the merchant. " +
				"The order waits for payment until expires_at (expires_in seconds, 60 to 86400, default 15 minutes) and then closes on its own (order.closed). " +
				"The mini program pays it with openmini.tradePay({orderId}); a cashier can show its code (POST .../code)." + idempotencyNote),
		op("GET /api/v1/merchant/orders", "listOrders", "The merchant's orders, newest first", tagPay, authMerchant, nil, OrderList{}, ok).
			withQuery(append([]param{{"state", "string", "created, paid, partly_refunded, refunded or closed."}, {"source", "string", "api, collection or payment_code."},
				{"since", "string", "Only orders created at or after this RFC 3339 time."}, {"until", "string", "Only orders created before this RFC 3339 time."}}, listPage...)...),
		op("GET /api/v1/merchant/orders/{orderID}", "getOrder", "Get an order", tagPay, authMerchant, nil, pay.Order{}, ok),
		op("GET /api/v1/merchant/orders/by-number/{merchantOrderNo}", "getOrderByNumber", "Get an order by the merchant's own order number", tagPay, authMerchant, nil, pay.Order{}, ok),
		op("POST /api/v1/merchant/orders/{orderID}/close", "closeOrder", "Close an unpaid order", tagPay, authMerchant, nil, pay.Order{}, ok).
			describe("It can no longer be paid. Closing a closed order is not an error; a paid order is a conflict (refund it instead)."),
		op("POST /api/v1/merchant/orders/{orderID}/code", "createOrderCode", "A QR code for an unpaid order, for the cashier's screen", tagPay, authMerchant, nil, OrderCode{}, created).
			describe("The customer scans it with the host and pays the order on /pay/order/{orderID}. The code expires with the order."),
		op("POST /api/v1/merchant/refunds", "refundOrder", "Refund all or part of a paid order", tagPay, authMerchant, pay.RefundRequest{}, pay.Refund{}, created).
			describe("At most what was paid minus what was refunded, also under concurrent requests. The coupon and the fee come back in proportion (docs/payments.md)." + idempotencyNote),
		op("GET /api/v1/merchant/refunds", "listRefunds", "The merchant's refunds, newest first", tagPay, authMerchant, nil, RefundList{}, ok).
			withQuery(append([]param{{"order_id", "string", "Only this order's refunds."}}, listPage...)...),
		op("GET /api/v1/merchant/refunds/{refundID}", "getRefund", "Get a refund", tagPay, authMerchant, nil, pay.Refund{}, ok),
		op("POST /api/v1/merchant/charges", "chargePaymentCode", "Charge a payment code the cashier scanned", tagPay, authMerchant, pay.ChargeRequest{}, pay.Order{}, created).
			describe("code is the 18 digits of the customer's wallet code (QR or barcode). Within the customer's no-PIN limit the order comes back paid; " +
				"above it, created: the customer confirms it with the PIN in the wallet and the merchant learns the outcome from the order.paid or order.closed webhook, or by querying." + idempotencyNote).
			mayFailWith(http.StatusTooManyRequests),
		op("GET /api/v1/merchant/settlements/{date}", "getSettlement", "One day's settlement report", tagPay, authMerchant, nil, pay.SettlementReport{}, ok).
			describe("Every payment and refund of the day in the settlement time zone, totals, and the same day from the ledger: reconciled is true when they agree to the cent."),
		op("GET /api/v1/merchant/settlements/{date}/csv", "getSettlementCSV", "One day's settlement report as CSV", tagPay, authMerchant, nil, rawBody("text/csv"), ok),
		op("GET /api/v1/merchant/events", "listEvents", "Webhook events, newest first, with their delivery state", tagPay, authMerchant, nil, EventList{}, ok).
			withQuery(append([]param{{"order_id", "string", "Only this order's events."}, {"state", "string", "pending, delivered, failed or no_endpoint."}}, listPage...)...),
		op("POST /api/v1/merchant/events/{eventID}/redeliver", "redeliverEvent", "Deliver an event's webhook again now", tagPay, authMerchant, nil, fields{"event_id": "", "queued": true}, http.StatusAccepted),
	}
}

// payPathParam describes the merchant API's path parameters.
func payPathParam(name string) (param, bool) {
	switch name {
	case "orderID":
		return param{name, "string", "An order id, ord_…"}, true
	case "merchantOrderNo":
		return param{name, "string", "The merchant_order_no given when the order was created."}, true
	case "refundID":
		return param{name, "string", "A refund id, rfd_…"}, true
	case "eventID":
		return param{name, "string", "An event id, evt_…"}, true
	case "date":
		return param{name, "string", "A day, YYYY-MM-DD, in the platform's settlement time zone."}, true
	}
	return param{}, false
}
