package discord

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// ErrEndpointConflict is returned by Run when another adapter in this
// process is running against a different API base URL. discordgo keeps its
// endpoints in package variables, so one process talks to one Discord API
// base at a time.
var ErrEndpointConflict = errors.New("discord: another adapter in this process uses a different API URL")

// endpoints guards discordgo's endpoint variables: they are written only
// while no adapter is running, and never to a different base while one is.
var endpoints struct {
	mu   sync.Mutex
	base string // the API URL the variables point at; "" for discordgo's own
	live int    // adapters running
}

// acquireEndpoints points discordgo at apiURL and counts one running
// adapter; releaseEndpoints undoes the count.
func acquireEndpoints(apiURL string) error {
	endpoints.mu.Lock()
	defer endpoints.mu.Unlock()
	if endpoints.base != apiURL {
		if endpoints.live > 0 {
			return fmt.Errorf("%w: running against %q, asked for %q", ErrEndpointConflict, endpoints.base, apiURL)
		}
		if err := setEndpoints(apiURL); err != nil {
			return err
		}
		endpoints.base = apiURL
	}
	endpoints.live++
	return nil
}

func releaseEndpoints() {
	endpoints.mu.Lock()
	endpoints.live--
	endpoints.mu.Unlock()
}

// setEndpoints reassigns every discordgo endpoint variable that is a string
// derived from the API base. The endpoint functions (EndpointChannel, ...)
// read these variables when called, so they follow. APIVersion follows a
// trailing /vN so that the gateway is asked for the same version.
// The caller holds endpoints.mu.
func setEndpoints(apiURL string) error {
	u, err := url.Parse(apiURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("discord: api url %q: not an absolute URL", apiURL)
	}
	api := strings.TrimRight(apiURL, "/") + "/"
	if i := strings.LastIndex(strings.TrimRight(u.Path, "/"), "/v"); i >= 0 {
		v := strings.TrimRight(u.Path, "/")[i+2:]
		if v != "" && strings.Trim(v, "0123456789") == "" {
			discordgo.APIVersion = v
		}
	}
	discordgo.EndpointDiscord = u.Scheme + "://" + u.Host + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointStickers = api + "stickers/"
	discordgo.EndpointStageInstances = api + "stage-instances"
	discordgo.EndpointSKUs = api + "skus"
	discordgo.EndpointVoice = api + "/voice/"
	discordgo.EndpointVoiceRegions = discordgo.EndpointVoice + "regions"
	discordgo.EndpointNitroStickersPacks = api + "/sticker-packs"
	discordgo.EndpointGuildCreate = api + "guilds"
	discordgo.EndpointApplications = api + "applications"
	return nil
}
